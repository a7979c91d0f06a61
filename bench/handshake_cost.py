"""What one WebSocket join/resume costs the database: statements, transactions, pool checkouts.

python -m bench.handshake_cost              # SQLite, 100 resumes
python -m bench.handshake_cost --postgres   # a fresh database on VILLAGE_TEST_PG's server

Each cycle opens the room socket with ?after=<head - MISSED> (a resume that misses MISSED
messages), waits for `caught_up`, then closes it; the app runs in-process (TestClient) with
the in-memory broker. The counts are per cycle (join and leave) and deterministic: SQLAlchemy
statements, transactions (BEGIN) and pool checkouts; on PostgreSQL also statements and units
run on the raw asyncpg connections (app.storage.pg_direct). The background pollers (session
upkeep, notification dispatcher) are not counted. CPU is the whole process's (server and the
test client) per cycle: compare runs of this script, not with other figures.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import sys
import time
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.pool import Pool
from starlette.testclient import TestClient

from app.factory import create_app
from app.settings import Settings
from bench import run as bench_run

CYCLES = 100
MISSED = 5
BACKLOG = 20  # messages in the room before the cycles
BACKGROUND_TASKS = ("session-upkeep", "notification-dispatcher")


def _counted_task() -> bool:
    try:
        task = asyncio.current_task()
    except RuntimeError:
        return True
    return task is None or task.get_name() not in BACKGROUND_TASKS


class Counts(collections.Counter[str]):
    def listen(self) -> None:
        """On every engine and pool, before the app's thread starts: adding a listener to a
        running engine from another thread races with its dispatch."""

        @event.listens_for(Engine, "before_cursor_execute")
        def _stmt(*_: Any) -> None:
            if _counted_task():
                self["sqlalchemy statements"] += 1

        @event.listens_for(Engine, "begin")
        def _begin(*_: Any) -> None:
            if _counted_task():
                self["sqlalchemy transactions"] += 1

        @event.listens_for(Pool, "checkout")
        def _checkout(*_: Any) -> None:
            if _counted_task():
                self["sqlalchemy pool checkouts"] += 1

    def instrument(self, app: Any) -> None:
        direct = app.state.services.db._direct
        if direct is None:
            return
        run, take = direct.run, direct._take
        logged: set[int] = set()

        async def counted_run(fn: Any, *args: Any, **kw: Any) -> Any:
            if _counted_task():
                self["asyncpg units"] += 1
            return await run(fn, *args, **kw)

        async def logged_take() -> Any:
            conn = await take()
            if id(conn) not in logged:
                conn.add_query_logger(lambda _record: self.update(["asyncpg statements"]))
                logged.add(id(conn))
            return conn

        direct.run, direct._take = counted_run, logged_take


def _send_backlog(client: TestClient, room_id: int, token: str) -> None:
    headers = {"cookie": f"village_session={token}", "origin": bench_run.ORIGIN}
    with client.websocket_connect(f"/ws/rooms/{room_id}", headers=headers) as ws:
        _until(ws, "caught_up")
        for i in range(BACKLOG):
            ws.send_json({"type": "send", "client_id": f"b{i}", "body": f"message {i}"})
            _until(ws, "ack")


def _until(ws: Any, kind: str) -> dict[str, Any]:
    while True:
        frame = ws.receive_json()
        if frame["type"] == kind:
            return frame  # type: ignore[no-any-return]


def measure(db_url: str, layout: list[tuple[int, list[str]]], cycles: int) -> None:
    settings = Settings(
        environment="test",
        database_url=db_url,
        public_url=bench_run.ORIGIN,
        broker_url="memory://",
        messages_per_window=100_000,
    )
    room_id, tokens = layout[0]
    app = create_app(settings)
    counts = Counts()
    counts.listen()
    with TestClient(app, base_url=bench_run.ORIGIN) as client:
        _send_backlog(client, room_id, tokens[0])
        counts.instrument(app)
        time.sleep(0.5)  # let the backlog's leave and roster settle before counting
        counts.clear()
        cpu, wall = time.process_time(), time.perf_counter()
        for i in range(cycles):
            token = tokens[i % len(tokens)]
            headers = {"cookie": f"village_session={token}", "origin": bench_run.ORIGIN}
            url = f"/ws/rooms/{room_id}?after={BACKLOG - MISSED}"
            with client.websocket_connect(url, headers=headers) as ws:
                got = 0
                while (frame := ws.receive_json())["type"] != "caught_up":
                    got += frame["type"] == "message"
                assert got == MISSED, got
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        time.sleep(0.5)  # leaves are written after the socket closes
    print(f"{cycles} join+resume+leave cycles on {db_url.split(':')[0]}, {MISSED} missed each:")
    for name in sorted(counts):
        print(f"  {name:28} {counts[name] / cycles:6.2f} per cycle")
    print(f"  {'CPU (server + test client)':28} {cpu / cycles * 1e3:6.2f} ms per cycle")
    print(f"  {'wall':28} {wall / cycles * 1e3:6.2f} ms per cycle")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--cycles", type=int, default=CYCLES)
    args = parser.parse_args()
    with bench_run.scratch_database(args.postgres, "hs") as db_url:
        env = bench_run.village_env(db_url, "memory://", "hs")
        bench_run.migrate(env)
        layout = bench_run.provision(env, 1, 4)
        measure(env["VILLAGE_DATABASE_URL"], layout, args.cycles)
    return 0


if __name__ == "__main__":
    sys.exit(main())
