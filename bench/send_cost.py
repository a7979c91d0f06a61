"""CPU per stored message: `messages.send_message` alone, and the rate-limit check alone.

python -m bench.send_cost              # SQLite, 300 messages
python -m bench.send_cost --postgres   # a fresh database on VILLAGE_TEST_PG's server

"one at a time" awaits each send before the next (no batching possible); "50 in flight"
keeps 50 sends of one room's two members outstanding, as a busy room does (on SQLite the
group-commit writer then stores several per transaction). CPU is the whole process's
(event loop and writer thread).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from app import accounts, messages
from app.access import Seat, enter_room
from app.services import Services, offline_services
from app.settings import Settings
from bench import run as bench_run
from moderation.engine import default_engine

N = 300
IN_FLIGHT = 50


async def _concurrent(svc: Services, senders: list[Seat]) -> None:
    sem = asyncio.Semaphore(IN_FLIGHT)

    async def one(i: int) -> None:
        async with sem:
            await messages.send_message(svc, senders[i % len(senders)], f"many-{i}", "hello")

    await asyncio.gather(*(one(i) for i in range(N)))


async def measure(db_url: str, layout: list[tuple[int, list[str]]]) -> None:
    settings = Settings(environment="test", database_url=db_url, public_url=bench_run.ORIGIN)
    svc = offline_services(settings)
    try:
        senders = []
        for token in layout[0][1]:
            who = await accounts.resolve(svc, token)
            senders.append((await enter_room(svc, who.user, layout[0][0])).seat)
        access = senders[0]
        default_engine()  # compiled once at server start-up; not part of a message's cost
        cpu, wall = time.process_time(), time.perf_counter()
        for i in range(N):
            await messages.send_message(svc, access, f"cost-{i}", "hello")
        print(
            f"send_message, one at a time: {(time.process_time() - cpu) / N * 1e3:.2f} ms CPU, "
            f"{(time.perf_counter() - wall) / N * 1e3:.2f} ms wall per message"
        )
        cpu, wall = time.process_time(), time.perf_counter()
        await _concurrent(svc, senders)
        print(
            f"send_message, {IN_FLIGHT} in flight: "
            f"{(time.process_time() - cpu) / N * 1e3:.2f} ms CPU per message, "
            f"{N / (time.perf_counter() - wall):.0f} messages/s"
        )
        cpu = time.process_time()
        for _ in range(N):
            await svc.limits.message_allowed(access.user_id, access.room_id)
        print(f"rate-limit check: {(time.process_time() - cpu) / N * 1e6:.0f} µs CPU per message")
    finally:
        await svc.db.aclose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    args = parser.parse_args()
    with bench_run.scratch_database(args.postgres, "cost") as db_url:
        env = bench_run.village_env(db_url, "memory://", "cost")
        bench_run.migrate(env)
        layout = bench_run.provision(env, 1, 2)
        asyncio.run(measure(env["VILLAGE_DATABASE_URL"], layout))
    return 0


if __name__ == "__main__":
    sys.exit(main())
