"""Village's server CPU per delivery at one fixed offered rate, and each thread's share.

python -m bench.fixed_rate --rate 400 --steps 4
python -m bench.fixed_rate --rate 1000 --steps 3 --profile prof.txt   # py-spy, every thread

The ceiling scenario's clients and layout (bench.run), but every step at the same rate and no
baseline: a before/after pair run back to back compares CPU per delivery in the same regime
(it falls as the rate rises and batches grow, so steps of different rates do not compare).
Each thread's CPU over the steps is read from /proc (Linux): the event loop against the
SQLite writer thread.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import run as bench_run

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds per thread id of a process."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        out[task.name] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return out


def spy(pid: int, seconds: float, out: str) -> subprocess.Popen[bytes]:
    """py-spy on every thread (the writer thread's work is not only under the GIL)."""
    return subprocess.Popen(
        [
            *("py-spy", "record", "--pid", str(pid), "--format", "raw", "--threads"),
            *("--duration", str(int(seconds)), "--nonblocking", "--rate", "250", "-o", out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=400.0, help="offered messages/s")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per step")
    parser.add_argument("--rooms", type=int, default=100)
    parser.add_argument("--members", type=int, default=10)
    parser.add_argument(
        "--profile", help="py-spy raw stacks of every thread during the second step, to here"
    )
    args = parser.parse_args()
    env = bench_run.village_env(
        f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='village-fixed-')}/bench.db",
        "memory://",
        "fixed",
    )
    bench_run.migrate(env)
    layout = bench_run.provision(env, args.rooms, args.members)
    server = bench_run.start_village(env, 1)
    pid = server.procs[0].pid
    spec: dict[str, Any] = {
        "kind": "village",
        "origin": bench_run.ORIGIN,
        "clients": bench_run.village_clients(server, layout),
        "members_per_room": args.members,
        "rates": [args.rate] * args.steps,
        "duration": args.duration,
        "p99_limit_ms": float("inf"),  # run every step
    }
    marks: list[dict[str, float]] = []
    spies: list[subprocess.Popen[bytes]] = []

    def on_step(_rate: float) -> None:
        marks.append(thread_cpu(pid))
        if args.profile and len(marks) == 2:
            spies.append(spy(pid, args.duration, args.profile))

    try:
        steps = bench_run.drive(server, spec, on_step=on_step)
        for p in spies:
            p.wait(30)
        end = thread_cpu(pid)
    finally:
        server.stop()
    per_step = [s["cpu_us_per_delivery"] for s in steps]
    print(f"server µs CPU/delivery per step: {', '.join(f'{x:.1f}' for x in per_step)}")
    print(f"median {statistics.median(per_step):.1f}, min {min(per_step):.1f}")
    used = {tid: cpu - marks[0].get(tid, 0.0) for tid, cpu in end.items()}
    main_thread = used.pop(str(pid), 0.0)
    print(f"CPU over the steps: event loop {main_thread:.2f} s", end="")
    for tid, cpu in sorted(used.items(), key=lambda kv: -kv[1]):
        if cpu >= 0.01:
            print(f", thread {tid} {cpu:.2f} s", end="")
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
