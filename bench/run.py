"""Benchmark runner: Village against a minimal baseline on the same stack, in one run.

python -m bench.run --scenario ceiling --rooms 100 --members 10 --duration 5
python -m bench.run --scenario redis   --rooms 100 --members 10 --duration 5
python -m bench.run --scenario idle    --connections 5000

Each scenario starts its servers, drives them from a separate load-generator process
(bench/load.py), samples server CPU and memory with psutil, prints a table and rewrites its
section of docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from tests.support.processes import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "performance.md"
ORIGIN = "http://bench.test"
P99_LIMIT_MS = 50.0
PG_ADMIN_DSN = os.environ.get("VILLAGE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("VILLAGE_BENCH_REDIS", "redis://127.0.0.1:6379/0")


@dataclass
class Server:
    name: str
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)
    # The shared services it uses (PostgreSQL backends of its database, redis-server), so
    # their CPU per delivery is reported too: on this machine they share the same two cores.
    infra: Callable[[], list[psutil.Process]] | None = None

    def cpu_seconds(self) -> float:
        total = 0.0
        for p in self.procs:
            t = psutil.Process(p.pid).cpu_times()
            total += t.user + t.system
        return total

    def rss_bytes(self) -> int:
        return sum(psutil.Process(p.pid).memory_info().rss for p in self.procs)

    def stop(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()


def _spawn(args: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        args, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=sys.stderr
    )
    wait_for_port(port, 60)
    return proc


def start_baseline(trace_dir: str | None = None) -> Server:
    port = free_port()
    args = [
        *(sys.executable, "-m", "uvicorn", "bench.baseline:app", "--port", str(port)),
        *("--ws", "websockets-sansio", "--ws-per-message-deflate", "false"),
        *("--log-level", "warning", "--no-access-log"),
    ]
    if trace_dir:  # the same settings, under tracemalloc (bench/memtrace.py)
        args = [sys.executable, "-m", "bench.memtrace", "--port", str(port)]
        args += ["--out", trace_dir, "--app", "bench.baseline:app"]
    proc = _spawn(args, {"VILLAGE_LOG_LEVEL": "warning"}, port)
    return Server("baseline", [proc], [port])


def _tracer(server: Server) -> Callable[[], None]:
    """SIGUSR1 to a server under bench/memtrace.py: the first starts tracing, later ones dump."""

    def snapshot() -> None:
        os.kill(server.procs[0].pid, signal.SIGUSR1)
        time.sleep(10)  # a collection and a dump of a traced heap take a while

    return snapshot


def village_env(db_url: str, broker_url: str, prefix: str) -> dict[str, str]:
    return {
        "VILLAGE_ENVIRONMENT": "test",
        "VILLAGE_DATABASE_URL": db_url,
        "VILLAGE_BROKER_URL": broker_url,
        "VILLAGE_REDIS_PREFIX": prefix,
        "VILLAGE_PUBLIC_URL": ORIGIN,
        "VILLAGE_LOG_LEVEL": "warning",
        "VILLAGE_MESSAGES_PER_WINDOW": "1000000",
        "VILLAGE_HISTORY_PAGE_SIZE": "0",
    }


def start_village(env: dict[str, str], workers: int, trace_dir: str | None = None) -> Server:
    server = Server(f"village x{workers}")
    for _ in range(workers):
        port = free_port()
        args = [sys.executable, "-m", "app", "serve", "--port", str(port)]
        if trace_dir:
            args = [sys.executable, "-m", "bench.memtrace", "--port", str(port)]
            args += ["--out", trace_dir]
        server.procs.append(_spawn(args, env, port))
        server.ports.append(port)
    return server


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "app", "migrate"],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
        stdout=subprocess.DEVNULL,
    )


def provision(env: dict[str, str], rooms: int, members: int) -> list[tuple[int, list[str]]]:
    from app.settings import Settings
    from bench.provision import provision_sync

    settings = Settings(
        environment="test",
        database_url=env["VILLAGE_DATABASE_URL"],
        public_url=ORIGIN,
        broker_url="memory://",
    )
    return provision_sync(settings, rooms, members)


def village_clients(
    server: Server, layout: list[tuple[int, list[str]]], per_member: int = 1
) -> list[dict[str, Any]]:
    """Interleaved by room; with several workers, a room's members are spread over them
    (the worst case: no room affinity at the load balancer)."""
    out = []
    members = len(layout[0][1])
    for copy in range(per_member):
        for m in range(members):
            for index, (room_id, tokens) in enumerate(layout):
                port = server.ports[(m + copy) % len(server.ports)]
                out.append(
                    {
                        "url": f"ws://127.0.0.1:{port}/ws/rooms/{room_id}?after=0",
                        "cookie": tokens[m],
                        "room": index,
                    }
                )
    return out


def baseline_clients(server: Server, rooms: int, members: int) -> list[dict[str, Any]]:
    port = server.ports[0]
    return [
        {"url": f"ws://127.0.0.1:{port}/ws/rooms/{r}", "room": r}
        for _ in range(members)
        for r in range(rooms)
    ]


def drive(
    server: Server,
    spec: dict[str, Any],
    on_step: Callable[[float], None] | None = None,
    on_idle: Callable[[], None] | None = None,
) -> list[dict[str, Any]]:
    """Run the load generator; attach server CPU per delivery to each step."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(spec, f)
    gen = subprocess.Popen(
        [sys.executable, "-m", "bench.load", f.name],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stdin=subprocess.PIPE,
        text=True,
    )
    assert gen.stdout is not None and gen.stdin is not None
    steps: list[dict[str, Any]] = []
    cpu0 = 0.0
    infra0: dict[psutil.Process, float] = {}
    try:
        for line in gen.stdout:
            ev = json.loads(line)
            if ev["event"] == "connected":
                print(f"  {server.name}: {ev['clients']} clients connected", flush=True)
                if spec.get("idle"):
                    time.sleep(3)  # let the server settle before reading its memory
                    steps.append({"rss": server.rss_bytes(), "clients": ev["clients"]})
                    if on_idle is not None:
                        on_idle()
                    gen.stdin.write("\n")
                    gen.stdin.flush()
            elif ev["event"] == "step_start":
                if on_step is not None:
                    on_step(ev["rate"])
                cpu0 = server.cpu_seconds()
                infra0 = {p: _cpu(p) for p in server.infra()} if server.infra else {}
            elif ev["event"] == "step_end":
                cpu = server.cpu_seconds() - cpu0
                ev["server_cpu_s"] = cpu
                ev["cpu_us_per_delivery"] = cpu / ev["delivered"] * 1e6 if ev["delivered"] else 0
                if server.infra:
                    # Processes born during the step count whole; one that exited during it
                    # (a pool closing an overflow connection) is lost: an undercount.
                    infra = sum(max(0.0, _cpu(p) - infra0.get(p, 0.0)) for p in server.infra())
                    ev["infra_us_per_delivery"] = (
                        infra / ev["delivered"] * 1e6 if ev["delivered"] else 0
                    )
                ev["server_rss_mb"] = server.rss_bytes() / 2**20
                steps.append(ev)
                print("  " + row(ev), flush=True)
    finally:
        gen.wait(60)
        os.unlink(f.name)
    return steps


def _cpu(proc: psutil.Process) -> float:
    try:
        t = proc.cpu_times()
    except psutil.Error:
        return 0.0
    return float(t.user + t.system)


def shared_services(pg_name: str) -> Callable[[], list[psutil.Process]]:
    """PostgreSQL backends connected to the bench database, and redis-server (shared with
    anything else using it at the time)."""

    async def backends() -> list[int]:
        import asyncpg

        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            rows = await conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", pg_name)
        finally:
            await conn.close()
        return [r["pid"] for r in rows]

    def procs() -> list[psutil.Process]:
        out = [psutil.Process(pid) for pid in asyncio.run(backends())]
        out += [p for p in psutil.process_iter(["name"]) if p.info["name"] == "redis-server"]
        return out

    return procs


def profile(server: Server, args: Any, rate: float) -> list[subprocess.Popen[bytes]]:
    """py-spy samples the first Village worker during the step at --profile-rate."""
    if not args.profile or rate != args.profile_rate:
        return []
    return [
        subprocess.Popen(
            [
                *("py-spy", "record", "--pid", str(server.procs[0].pid), "--format", "raw"),
                *("--duration", str(int(args.duration)), "--nonblocking", "--rate", "400"),
                *("--gil", "-o", args.profile),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]


def rates(start: float, factor: float, top: float) -> list[float]:
    out, r = [], start
    while r <= top:
        out.append(round(r))
        r *= factor
    return out


def ceiling(steps: list[dict[str, Any]]) -> float:
    ok = [s["delivered_per_s"] for s in steps if s["p99_ms"] <= P99_LIMIT_MS and not s["missing"]]
    return max(ok, default=0.0)


def fmt(x: float) -> str:
    return "∞" if math.isinf(x) else f"{x:.1f}"


def row(s: dict[str, Any]) -> str:
    out = (
        f"| {s['offered_msgs_per_s']:>6} | {s['delivered_per_s']:>9.0f} | {fmt(s['p50_ms']):>6} "
        f"| {fmt(s['p95_ms']):>6} | {fmt(s['p99_ms']):>6} | {fmt(s['max_ms']):>7} "
        f"| {s['missing']:>6} | {s['late_over_1s']:>5} | {s['errors']:>3} "
        f"| {s['cpu_us_per_delivery']:>5.1f} | {s['server_rss_mb']:>6.0f} |"
    )
    if "infra_us_per_delivery" in s:
        out += f" {s['infra_us_per_delivery']:>5.1f} |"
    return out


HEADER = (
    "| offered msg/s | delivered/s | p50 ms | p95 ms | p99 ms | max ms | missing | late>1s "
    "| errors | server µs CPU/delivery | server RSS MB |\n"
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def table(steps: list[dict[str, Any]]) -> str:
    header = HEADER
    if steps and "infra_us_per_delivery" in steps[0]:
        head, rule = HEADER.split("\n")
        header = f"{head} PostgreSQL + Redis µs CPU/delivery |\n{rule}---:|"
    return "\n".join([header, *(row(s) for s in steps)])


async def _pg(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def scratch_database(postgres: bool, prefix: str) -> Iterator[str]:
    """The database URL of one bench script's run: a fresh PostgreSQL database, dropped
    afterwards, or a SQLite file in a new temporary directory."""
    if not postgres:
        yield f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix=f'village-{prefix}-')}/{prefix}.db"
        return
    name = f"village_{prefix}_{uuid.uuid4().hex[:8]}"
    asyncio.run(_pg(f'CREATE DATABASE "{name}"'))
    try:
        base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        yield f"{base}/{name}"
    finally:
        asyncio.run(_pg(f'DROP DATABASE "{name}" WITH (FORCE)'))


def write_section(name: str, body: str) -> None:
    text = DOC.read_text() if DOC.exists() else "# Performance\n"
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{body.strip()}\n{end}"
    if start in text:
        text = text[: text.index(start)] + block + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    DOC.write_text(text)


def machine() -> str:
    return (
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.processor() or 'cpu'}"
        f" ×{os.cpu_count()} (shared), Python {platform.python_version()}"
    )


def load_spec(kind: str, clients: list[dict[str, Any]], members: int, args: Any) -> dict[str, Any]:
    return {
        "kind": kind,
        "origin": ORIGIN,
        "clients": clients,
        "members_per_room": members,
        "rates": rates(args.start_rate, args.factor, args.max_rate),
        "duration": args.duration,
        "p99_limit_ms": P99_LIMIT_MS,
    }


def command(args: Any) -> str:
    return (
        f"python -m bench.run --scenario {args.scenario} --rooms {args.rooms} "
        f"--members {args.members} --duration {args.duration} --start-rate {args.start_rate} "
        f"--factor {args.factor} --max-rate {args.max_rate}"
    )


def scenario_ceiling(args: Any, workers: int) -> str:
    rooms, members = args.rooms, args.members
    print(f"baseline: {rooms} rooms × {members}", flush=True)
    base = start_baseline()
    try:
        base_steps = drive(
            base, load_spec("baseline", baseline_clients(base, rooms, members), members, args)
        )
    finally:
        base.stop()
    tmp = tempfile.mkdtemp(prefix="village-bench-")
    pg_name = ""
    if workers == 1:
        db_url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        broker = "memory://"
    else:
        pg_name = f"village_bench_{uuid.uuid4().hex[:8]}"
        asyncio.run(_pg(f'CREATE DATABASE "{pg_name}"'))
        db_url = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        db_url += "/" + pg_name
        broker = REDIS_URL
    env = village_env(db_url, broker, f"bench-{uuid.uuid4().hex[:8]}")
    try:
        migrate(env)
        layout = provision(env, rooms, members)
        print(
            f"village ({workers} worker(s), {db_url.split(':')[0]}, {broker.split(':')[0]})",
            flush=True,
        )
        server = start_village(env, workers)
        if pg_name:
            server.infra = shared_services(pg_name)
        spies: list[subprocess.Popen[bytes]] = []
        try:
            steps = drive(
                server,
                load_spec("village", village_clients(server, layout), members, args),
                on_step=lambda rate: spies.extend(profile(server, args, rate)),
            )
        finally:
            for spy in spies:
                spy.wait()
            server.stop()
    finally:
        if pg_name:
            asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
    b, v = ceiling(base_steps), ceiling(steps)
    ratio = v / b if b else 0.0
    label = (
        "1 worker, SQLite, in-process broker"
        if workers == 1
        else (f"{workers} workers, PostgreSQL, Redis; each room's members spread over the workers")
    )
    return f"""
Run: {machine()}. {rooms} rooms × {members} members = {rooms * members} clients, {args.duration} s
per step, offered rate ×{args.factor} per step until p99 > {P99_LIMIT_MS:.0f} ms twice in a row.

`{command(args)}`

Baseline (Starlette broadcast, no auth/persistence):

{table(base_steps)}

Village ({label}):

{table(steps)}

**Ceiling (delivered/s with p99 ≤ {P99_LIMIT_MS:.0f} ms, nothing missing): baseline {b:,.0f},
Village {v:,.0f} — ratio {ratio:.2f}.**{_cpu_summary(steps, workers)}
"""


def _cpu_summary(steps: list[dict[str, Any]], workers: int) -> str:
    if not steps or "infra_us_per_delivery" not in steps[0]:
        return ""
    low = steps[0]
    return (
        f"\nAt {low['offered_msgs_per_s']} msg/s: {low['cpu_us_per_delivery']:.0f} µs of CPU per"
        f" delivery summed over the {workers} workers, plus"
        f" {low['infra_us_per_delivery']:.0f} µs in PostgreSQL and Redis."
    )


def scenario_idle(args: Any) -> str:
    n = args.connections
    results = {}
    base = start_baseline(args.tracemalloc and os.path.join(args.tracemalloc, "baseline"))
    try:
        time.sleep(1)
        rss0 = base.rss_bytes()
        base_snapshot = _tracer(base) if args.tracemalloc else None
        if base_snapshot is not None:
            base_snapshot()
        spec = {"kind": "baseline", "origin": ORIGIN, "idle": True, "members_per_room": 10}
        spec["clients"] = baseline_clients(base, max(1, n // 10), 10)[:n]
        got = drive(base, spec, on_idle=base_snapshot)[0]
        results["baseline"] = (got["rss"] - rss0) / got["clients"]
    finally:
        base.stop()
    tmp = tempfile.mkdtemp(prefix="village-bench-")
    env = village_env(f"sqlite+aiosqlite:///{tmp}/bench.db", "memory://", "bench")
    migrate(env)
    rooms, members = 10, 10
    layout = provision(env, rooms, members)
    server = start_village(env, 1, args.tracemalloc)
    snapshot = _tracer(server) if args.tracemalloc else None
    try:
        time.sleep(1)
        rss0 = server.rss_bytes()
        if snapshot is not None:
            snapshot()
        clients = village_clients(server, layout, per_member=math.ceil(n / (rooms * members)))[:n]
        spec = {"kind": "village", "origin": ORIGIN, "idle": True, "members_per_room": members}
        spec["clients"] = clients
        if args.tracemalloc:
            spec["connect_wave"] = 10  # a traced server is slow: stay under the pool timeout
        got = drive(server, spec, on_idle=snapshot)[0]
        results["village"] = (got["rss"] - rss0) / got["clients"]
    finally:
        server.stop()
    ratio = results["village"] / results["baseline"]
    return f"""
Run: {machine()}. {n} idle WebSocket connections, server RSS growth per connection.

`python -m bench.run --scenario idle --connections {n}`

| server | KB per idle connection |
|---|---:|
| baseline | {results["baseline"] / 1024:.1f} |
| Village (1 worker, SQLite) | {results["village"] / 1024:.1f} |

**Ratio Village / baseline: {ratio:.2f}** (target ≤ 1.25).
"""


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run")
    parser.add_argument("--scenario", choices=["ceiling", "redis", "idle"], required=True)
    parser.add_argument("--rooms", type=int, default=100)
    parser.add_argument("--members", type=int, default=10)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--start-rate", type=float, default=200.0)
    parser.add_argument("--factor", type=float, default=1.5)
    parser.add_argument("--max-rate", type=float, default=20000.0)
    parser.add_argument("--connections", type=int, default=5000)
    parser.add_argument("--profile", help="write py-spy collapsed stacks of worker 1 here")
    parser.add_argument("--profile-rate", type=float, default=0, help="offered rate to profile")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument(
        "--tracemalloc",
        metavar="DIR",
        help="idle: run Village under tracemalloc, snapshots before/after connecting in DIR",
    )
    args = parser.parse_args()
    if args.scenario == "idle":
        body = scenario_idle(args)
    else:
        body = scenario_ceiling(args, 1 if args.scenario == "ceiling" else 2)
    print(body)
    if not args.no_write:
        write_section(args.scenario, body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
