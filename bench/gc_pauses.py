"""Cyclic-GC pauses of one Village worker holding many idle sockets plus some traffic.

python -m bench.gc_pauses --connections 10000 --rate 10 --duration 20 [--env VILLAGE_X=y ...]

Starts Village (one worker, SQLite, in-process broker) under this module's `--serve`, which
records every collection with `gc.callbacks` (generation, duration, objects collected),
provisions R rooms of M members, connects N sockets (each member several times), then sends
`--rate` messages/s for `--duration` s through the load generator (bench/load.py). Prints the
collections of each phase (connecting, traffic): count per generation, the longest gen-2
pause, and the delivery latency the clients saw. `--env` passes settings to the server
(e.g. `VILLAGE_GC_FREEZE=false` for the "before" row). Raise `ulimit -n` above N first; the
script raises its own soft limit to the hard limit.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import resource
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOMS, MEMBERS = 50, 10  # 500 accounts; each connects connections / 500 times


def serve(port: int, out: Path) -> None:
    """Village as `python -m app serve` would run it, recording each collection. SIGUSR1
    writes what was recorded so far to `out` (JSON lines: gen, seconds, collected)."""
    records: list[tuple[int, float, int]] = []
    started: list[float] = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            records.append(
                (info["generation"], time.perf_counter() - started[0], info["collected"])
            )

    def dump(*_: object) -> None:
        tmp = out.with_suffix(".tmp")
        with tmp.open("w") as f:
            for gen, secs, collected in records:
                f.write(json.dumps({"gen": gen, "secs": secs, "collected": collected}) + "\n")
        tmp.replace(out)  # whole dumps only: the reader never sees one half written

    gc.callbacks.append(on_gc)
    signal.signal(signal.SIGUSR1, dump)
    from bench.memtrace import run_server

    run_server(port)


def _read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    by_gen = {g: [r["secs"] for r in records if r["gen"] == g] for g in (0, 1, 2)}
    return {
        "count": {g: len(v) for g, v in by_gen.items()},
        "gen2_max_ms": max(by_gen[2], default=0.0) * 1000,
        "gen2_total_ms": sum(by_gen[2]) * 1000,
        "gen01_max_ms": max(by_gen[0] + by_gen[1], default=0.0) * 1000,
        "all_total_ms": sum(r["secs"] for r in records) * 1000,
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gc_pauses")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--connections", type=int, default=10000)
    parser.add_argument("--rate", type=float, default=10.0, help="messages/s in the traffic phase")
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    if args.serve:
        serve(args.port, args.out)
        return 0

    from bench import run as bench

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:  # children (server, load generator) inherit it
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < args.connections + 1000:
        print(f"file-descriptor limit {hard} < {args.connections} sockets: raise ulimit -n")
        return 1
    tmp = tempfile.mkdtemp(prefix="village-gc-")
    env = bench.village_env(f"sqlite+aiosqlite:///{tmp}/bench.db", "memory://", "gcbench")
    env.update(kv.split("=", 1) for kv in args.env)
    bench.migrate(env)
    layout = bench.provision(env, ROOMS, MEMBERS)
    copies = math.ceil(args.connections / (ROOMS * MEMBERS))
    record = Path(tmp) / "gc.jsonl"
    port = bench.free_port()
    server = bench.Server("village x1", ports=[port])
    server.procs.append(
        bench._spawn(
            [
                sys.executable,
                "-m",
                "bench.gc_pauses",
                "--serve",
                "--port",
                str(port),
                "--out",
                str(record),
            ],
            env,
            port,
        )
    )
    clients = bench.village_clients(server, layout, copies)[: args.connections]
    seen: list[list[dict[str, Any]]] = []  # cumulative records at each phase boundary

    def mark(_rate: float = 0.0) -> None:
        before = record.stat().st_mtime_ns if record.exists() else 0
        os.kill(server.procs[0].pid, signal.SIGUSR1)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # a busy server takes a while to get to it
            time.sleep(0.2)
            if record.exists() and record.stat().st_mtime_ns != before:
                break
        else:
            raise RuntimeError("the server wrote no GC record")
        seen.append(_read(record))

    try:
        time.sleep(2)
        mark()  # start-up (rule compilation, gc.freeze) is not a pause anyone waits on
        spec = {
            "kind": "village",
            "origin": bench.ORIGIN,
            "members_per_room": MEMBERS * copies,
            "clients": clients,
            "rates": [args.rate],
            "duration": args.duration,
            "p99_limit_ms": bench.P99_LIMIT_MS,
        }
        t0 = time.monotonic()
        steps = bench.drive(server, spec, on_step=mark)  # marks the end of connecting
        mark()
        rss_mb = server.rss_bytes() / 2**20
    finally:
        server.stop()
    start_up, connected, everything = seen[0], seen[1], seen[-1]
    phases = {
        "connecting": connected[len(start_up) :],
        "traffic": everything[len(connected) :],
    }
    settings = " ".join(args.env) or "defaults"
    print(
        f"\n{len(clients)} sockets ({ROOMS} rooms x {MEMBERS} members x {copies}), "
        f"{args.rate} msg/s for {args.duration} s, settings: {settings}; "
        f"{time.monotonic() - t0:.0f} s, server RSS {rss_mb:.0f} MB, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(
        "| phase | gen0 / gen1 / gen2 collections | longest gen-2 pause | gen-2 total |"
        " longest gen-0/1 pause | all GC |"
    )
    print("|---|---|---:|---:|---:|---:|")
    for name, recs in phases.items():
        s = _summary(recs)
        c = s["count"]
        print(
            f"| {name} | {c[0]} / {c[1]} / {c[2]} | {s['gen2_max_ms']:.0f} ms | "
            f"{s['gen2_total_ms']:.0f} ms | {s['gen01_max_ms']:.1f} ms | "
            f"{s['all_total_ms']:.0f} ms |"
        )
    for st in steps:
        if "p99_ms" in st:
            print(
                f"traffic: delivered {st['delivered']}/{st['expected']}, p50 {st['p50_ms']:.1f} ms,"
                f" p99 {st['p99_ms']:.1f} ms, max {st['max_ms']:.1f} ms, errors {st['errors']}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
