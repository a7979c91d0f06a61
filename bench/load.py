"""The load generator, in its own process: asyncio WebSocket clients at a fixed offered rate.

python -m bench.load spec.json   (spec written by bench.run; one JSON line out per event)

Every payload carries its send time (`t=<ns>`) and a message number (`n=<id>`). Latency is
measured at every recipient; a delivery that has not arrived by the end of the grace period
counts as missing, and missing deliveries count as infinitely late in the percentiles, so a
server that drops or stalls cannot look fast.
"""

from __future__ import annotations

import asyncio
import gc
import json
import math
import sys
import time
from collections import defaultdict
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

GRACE_SECS = 1.5  # a delivery later than this after the step ends is counted as missing
TICK_SECS = 0.005


def emit(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


class Run:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.village = spec["kind"] == "village"
        self.latencies: list[float] = []  # seconds, this step
        self.received: dict[int, int] = defaultdict(int)  # message number -> deliveries
        self.errors = 0
        self.socks: list[tuple[ClientConnection, int]] = []  # (socket, room index)

    async def open(self, c: dict[str, Any]) -> None:
        headers = {"origin": self.spec["origin"]}
        if c.get("cookie"):
            headers["cookie"] = f"village_session={c['cookie']}"
        ws = await connect(
            c["url"],
            additional_headers=headers,
            compression=None,
            max_queue=None,
            open_timeout=120,
            ping_interval=None,
        )
        if self.village:
            async for raw in ws:  # welcome, backlog, presence… until caught up
                if '"caught_up"' in str(raw):
                    break
        self.socks.append((ws, c["room"]))
        asyncio.get_running_loop().create_task(self.read(ws))

    async def read(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                text = raw if isinstance(raw, str) else raw.decode()
                i = text.find("t=")
                if i < 0:
                    if '"error"' in text:
                        self.errors += 1
                    continue
                j = text.find(" ", i)
                k = text.find("n=", j)
                end = k + 2
                while end < len(text) and text[end].isdigit():
                    end += 1
                now = time.perf_counter_ns()
                self.latencies.append((now - int(text[i + 2 : j])) / 1e9)
                self.received[int(text[k + 2 : end])] += 1
        except Exception:
            self.errors += 1

    async def step(self, rate: float, duration: float) -> dict[str, Any]:
        self.latencies, self.received = [], defaultdict(int)
        errors_before = self.errors
        members = self.spec["members_per_room"]
        sent: list[int] = []
        n = self.spec.setdefault("next_n", 0)
        loop = asyncio.get_running_loop()
        start = loop.time()
        due = 0.0
        who = 0
        while (elapsed := loop.time() - start) < duration:
            due = rate * elapsed - len(sent)
            for _ in range(int(due)):
                ws, _room = self.socks[who % len(self.socks)]
                who += 1
                n += 1
                body = f"t={time.perf_counter_ns()} n={n}"
                if self.village:
                    frame = json.dumps({"type": "send", "client_id": f"b{n}", "body": body})
                else:
                    frame = json.dumps({"body": body})
                try:
                    await ws.send(frame)
                    sent.append(n)
                except Exception:
                    self.errors += 1
                    sent.append(n)
            await asyncio.sleep(TICK_SECS)
        self.spec["next_n"] = n
        await asyncio.sleep(GRACE_SECS)
        expected = len(sent) * members
        delivered = sum(min(self.received[m], members) for m in sent)
        missing = expected - delivered
        lat = sorted(self.latencies)
        late = sum(1 for x in lat if x > 1.0)

        def pct(p: float) -> float:
            # Missing deliveries rank as infinitely late.
            rank = math.ceil(p * expected) - 1
            return lat[rank] * 1000 if 0 <= rank < len(lat) else math.inf

        return {
            "offered_msgs_per_s": rate,
            "sent": len(sent),
            "expected": expected,
            "delivered": delivered,
            "delivered_per_s": delivered / duration,
            "missing": missing,
            "late_over_1s": late,
            "p50_ms": pct(0.50),
            "p95_ms": pct(0.95),
            "p99_ms": pct(0.99),
            "max_ms": lat[-1] * 1000 if lat and not missing else math.inf,
            "errors": self.errors - errors_before,
        }


async def main(spec: dict[str, Any]) -> None:
    run = Run(spec)
    clients = spec["clients"]
    wave = spec.get("connect_wave", 100)  # connect in waves: the handshake is not measured
    for i in range(0, len(clients), wave):
        await asyncio.gather(*(run.open(c) for c in clients[i : i + wave]))
    emit("connected", clients=len(run.socks))
    if spec.get("idle"):
        sys.stdin.readline()  # hold the connections until the runner has measured memory
        return
    # The generator's own GC pauses would show up as server latency.
    gc.collect()
    gc.freeze()
    over = 0
    for rate in spec["rates"]:
        emit("step_start", rate=rate)
        result = await run.step(rate, spec["duration"])
        emit("step_end", **result)
        # Two steps over the limit in a row end the search: one can be a neighbour's noise.
        over = over + 1 if result["p99_ms"] > spec["p99_limit_ms"] else 0
        if over == 2:
            break


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        asyncio.run(main(json.load(f)))
