"""Latency and throughput of ``assess`` on realistic ~300-character chat messages, one core."""

from __future__ import annotations

import json
import random
import statistics
import time
from dataclasses import dataclass

from moderation.engine import Engine
from moderation.evaluate import DEFAULT_CORPUS, load_items

TARGET_CHARS = 300
# Shares of benchmark messages that carry something the engine must look at closely. Real rooms
# carry far fewer risky messages (well under 5%), so this is deliberately pessimistic.
RISKY_SHARE = 0.10
HARD_NEGATIVE_SHARE = 0.10
DISTRESS_SHARE = 0.15


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
            f"messages            {self.messages} (mean {self.mean_chars:.0f} chars; "
            f"{RISKY_SHARE:.0%} risky, {HARD_NEGATIVE_SHARE:.0%} hard negative, "
            f"{DISTRESS_SHARE:.0%} venting)",
            f"p50 latency         {self.p50_ms:.4f} ms",
            f"p90 latency         {self.p90_ms:.4f} ms",
            f"p99 latency         {self.p99_ms:.4f} ms   target <= 0.2",
            f"max latency         {self.max_ms:.4f} ms",
            f"throughput          {self.per_second:,.0f} messages/s   target >= 10,000",
        ]


def make_messages(count: int, seed: int = 7) -> list[str]:
    """Messages of about 300 characters stitched from the corpus.

    Filler is ordinary chatter. DISTRESS_SHARE of messages also carry a low-level venting
    message, HARD_NEGATIVE_SHARE a hard negative ("teething is killing me") and RISKY_SHARE a
    risky message (moderate or above): these are the messages that make the engine work.
    """
    items = load_items(DEFAULT_CORPUS)
    hard_ids = _hard_negatives()
    plain = [i.text for i in items if i.severity.rank == 0 and i.id not in hard_ids]
    distress = [i.text for i in items if i.severity.rank == 1]
    hard = [i.text for i in items if i.id in hard_ids]
    risky = [i.text for i in items if i.severity.rank >= 2]
    rng = random.Random(seed)
    messages: list[str] = []
    for _ in range(count):
        parts: list[str] = []
        roll = rng.random()
        for share, pool in ((RISKY_SHARE, risky), (HARD_NEGATIVE_SHARE, hard),
                            (DISTRESS_SHARE, distress)):
            if roll < share:
                parts.append(rng.choice(pool))
                break
            roll -= share
        while sum(len(p) + 2 for p in parts) < TARGET_CHARS:
            parts.insert(rng.randrange(len(parts) + 1), rng.choice(plain))
        messages.append(". ".join(parts)[: TARGET_CHARS + 40])
    return messages


def _hard_negatives() -> frozenset[str]:
    ids: set[str] = set()
    with DEFAULT_CORPUS.open(encoding="utf-8") as fh:
        for line in fh:
            data = json.loads(line)
            if data.get("hard_negative"):
                ids.add(data["id"])
    return frozenset(ids)


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
