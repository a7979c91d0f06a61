"""CPU per stored message: `messages.send_message` alone, and the rate-limit check alone.

python -m bench.send_cost            # SQLite, 300 messages
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time

from app import accounts, messages
from app.access import enter_room
from app.services import offline_services
from app.settings import Settings
from bench import run as bench_run
from moderation.engine import default_engine

N = 300


async def measure(db_url: str, layout: list[tuple[int, list[str]]]) -> None:
    settings = Settings(environment="test", database_url=db_url, public_url=bench_run.ORIGIN)
    svc = offline_services(settings)
    try:
        who = await accounts.resolve(svc, layout[0][1][0])
        access = await enter_room(svc, who.user, layout[0][0])
        default_engine()  # compiled once at server start-up; not part of a message's cost
        cpu, wall = time.process_time(), time.perf_counter()
        for i in range(N):
            await messages.send_message(svc, access, f"cost-{i}", "hello")
        print(
            f"send_message: {(time.process_time() - cpu) / N * 1e3:.2f} ms CPU, "
            f"{(time.perf_counter() - wall) / N * 1e3:.2f} ms wall per message"
        )
        cpu = time.process_time()
        for _ in range(N):
            await svc.limits.message_allowed(who.user.id, access.room.id)  # type: ignore[arg-type]
        print(f"rate-limit check: {(time.process_time() - cpu) / N * 1e6:.0f} µs CPU per message")
    finally:
        await svc.db.aclose()


def main() -> int:
    tmp = tempfile.mkdtemp(prefix="village-cost-")
    env = bench_run.village_env(f"sqlite+aiosqlite:///{tmp}/cost.db", "memory://", "cost")
    bench_run.migrate(env)
    layout = bench_run.provision(env, 1, 2)
    asyncio.run(measure(env["VILLAGE_DATABASE_URL"], layout))
    return 0


if __name__ == "__main__":
    sys.exit(main())
