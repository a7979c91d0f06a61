"""Latency and throughput of ``assess`` on realistic ~300-character chat messages, one core."""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import dataclass

from moderation.engine import Engine
from moderation.evaluate import DEFAULT_CORPUS, load_items

TARGET_CHARS = 300
# Share of benchmark messages that carry a risk cue; real rooms carry far fewer, so this is
# deliberately pessimistic (risky messages do the most work).
RISKY_SHARE = 0.3


@dataclass(frozen=True, slots=True)
class BenchResult:
    messages: int
    mean_chars: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    per_second: float

    def lines(self) -> list[str]:
        return [
            f"messages            {self.messages} (mean {self.mean_chars:.0f} chars, "
            f"{RISKY_SHARE:.0%} with a risk cue)",
            f"p50 latency         {self.p50_ms:.4f} ms",
            f"p90 latency         {self.p90_ms:.4f} ms",
            f"p99 latency         {self.p99_ms:.4f} ms   target <= 0.2",
            f"max latency         {self.max_ms:.4f} ms",
            f"throughput          {self.per_second:,.0f} messages/s   target >= 10,000",
        ]


def make_messages(count: int, seed: int = 7) -> list[str]:
    """Messages of about 300 characters stitched from the corpus: chatter, some with risk."""
    items = load_items(DEFAULT_CORPUS)
    plain = [i.text for i in items if i.severity.rank == 0]
    risky = [i.text for i in items if i.severity.rank > 0]
    rng = random.Random(seed)
    messages: list[str] = []
    for _ in range(count):
        parts: list[str] = []
        if rng.random() < RISKY_SHARE:
            parts.append(rng.choice(risky))
        while sum(len(p) + 2 for p in parts) < TARGET_CHARS:
            parts.insert(rng.randrange(len(parts) + 1), rng.choice(plain))
        messages.append(". ".join(parts)[: TARGET_CHARS + 40])
    return messages


def run(engine: Engine, count: int = 5000, seed: int = 7) -> BenchResult:
    messages = make_messages(count, seed)
    for message in messages[:200]:  # warm caches and the lazy regex compile paths
        engine.assess(message)
    timings: list[float] = []
    clock = time.perf_counter
    started = clock()
    for message in messages:
        t0 = clock()
        engine.assess(message)
        timings.append(clock() - t0)
    elapsed = clock() - started
    timings.sort()
    quantiles = statistics.quantiles(timings, n=100)
    return BenchResult(
        messages=count,
        mean_chars=statistics.fmean(len(m) for m in messages),
        p50_ms=quantiles[49] * 1000,
        p90_ms=quantiles[89] * 1000,
        p99_ms=quantiles[98] * 1000,
        max_ms=timings[-1] * 1000,
        per_second=count / elapsed,
    )
