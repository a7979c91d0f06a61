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
    cpu_ms: tuple[float, float, float, float]  # p50, p90, p99, max of per-message CPU time
    wall_ms: tuple[float, float, float, float]  # the same, wall clock
    cpu_per_second: float
    wall_per_second: float

    def lines(self) -> list[str]:
        cpu, wall = self.cpu_ms, self.wall_ms
        return [
            f"messages            {self.messages} (mean {self.mean_chars:.0f} chars; "
            f"{RISKY_SHARE:.0%} risky, {HARD_NEGATIVE_SHARE:.0%} hard negative, "
            f"{DISTRESS_SHARE:.0%} venting)",
            f"wall clock          p50 {wall[0]:.4f}  p90 {wall[1]:.4f}  p99 {wall[2]:.4f}  "
            f"max {wall[3]:.4f} ms   {self.wall_per_second:,.0f} messages/s",
            "(wall clock includes time the OS gave the core to other processes; the lines "
            "below count only this thread's CPU time)",
            f"p50 latency         {cpu[0]:.4f} ms",
            f"p90 latency         {cpu[1]:.4f} ms",
            f"p99 latency         {cpu[2]:.4f} ms   target <= 0.2",
            f"max latency         {cpu[3]:.4f} ms",
            f"throughput          {self.cpu_per_second:,.0f} messages/s on one core   "
            "target >= 10,000",
        ]


def _percentiles(samples: list[float]) -> tuple[float, float, float, float]:
    ordered = sorted(samples)
    q = statistics.quantiles(ordered, n=100)
    return (q[49] * 1000, q[89] * 1000, q[98] * 1000, ordered[-1] * 1000)


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
    """Assess ``count`` messages one at a time on this thread, timing each one."""
    messages = make_messages(count, seed)
    for message in messages[:500]:  # warm the word caches, as a running server would be
        engine.assess(message)
    cpu: list[float] = []
    wall: list[float] = []
    cpu_clock, wall_clock = time.thread_time, time.perf_counter
    for message in messages:
        w0, c0 = wall_clock(), cpu_clock()
        engine.assess(message)
        c1, w1 = cpu_clock(), wall_clock()
        cpu.append(c1 - c0)
        wall.append(w1 - w0)
    return BenchResult(
        messages=count,
        mean_chars=statistics.fmean(len(m) for m in messages),
        cpu_ms=_percentiles(cpu),
        wall_ms=_percentiles(wall),
        cpu_per_second=count / sum(cpu),
        wall_per_second=count / sum(wall),
    )
