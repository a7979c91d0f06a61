"""CPU per message-rate check over Redis, one at a time and with many in flight.

python -m bench.ratelimit_cost [--checks 3000]

Uses the shared Redis (VILLAGE_BENCH_REDIS, default redis://127.0.0.1:6379/0) under a fresh
key prefix, with a limit nobody reaches. Process CPU time, so a loaded machine inflates it
less than wall-clock; compare runs made in the same minute.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid

from app.ratelimits import RateLimits
from app.settings import Settings

REDIS_URL = os.environ.get("VILLAGE_BENCH_REDIS", "redis://127.0.0.1:6379/0")


async def measure(checks: int) -> None:
    settings = Settings(
        environment="test",
        broker_url=REDIS_URL,
        redis_prefix=f"bench-rl-{uuid.uuid4().hex[:8]}",
        messages_per_window=10**9,
    )
    limits = RateLimits(settings)
    await limits.message_allowed(1, 1)  # connect and load the script
    for in_flight in (1, 10, 50):

        async def sender(user: int, per_sender: int = checks // in_flight) -> None:
            for n in range(per_sender):
                await limits.message_allowed(user, n % 100)

        start = time.process_time()
        await asyncio.gather(*(sender(u) for u in range(in_flight)))
        cpu = time.process_time() - start
        print(f"{in_flight:>3} in flight: {cpu / checks * 1e6:6.0f} µs CPU per check")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ratelimit_cost")
    parser.add_argument("--checks", type=int, default=3000)
    asyncio.run(measure(parser.parse_args().checks))


if __name__ == "__main__":
    main()
