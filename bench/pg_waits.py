"""What PostgreSQL's backends are doing while a bench runs: pg_stat_activity sampled.

python -m bench.pg_waits --seconds 15 [--database-like 'village_bench_%']

Every 20 ms it reads the state and wait event of each backend connected to a matching
database; it prints the average number of backends per (state, wait type, wait event), with
the statement for lock waits and open transactions. Start it once `bench.run` prints that
its Village clients are connected. "idle in transaction / ClientRead" means a transaction is
open and PostgreSQL waits for the application; "Lock / transactionid" on the room counter
means a send waits for another send's transaction to end.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import time

import asyncpg

PG_ADMIN_DSN = os.environ.get("VILLAGE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
SAMPLE_SECS = 0.02
_QUERY = (
    "SELECT state, wait_event_type, wait_event, left(query, 45) AS q FROM pg_stat_activity"
    " WHERE datname LIKE $1 AND pid <> pg_backend_pid()"
)


async def sample(seconds: float, database_like: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    counts: collections.Counter[tuple[str, ...]] = collections.Counter()
    samples = 0
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            rows = await conn.fetch(_QUERY, database_like)
            if rows:
                samples += 1
            for r in rows:
                shown = r["wait_event_type"] == "Lock" or r["state"] == "idle in transaction"
                key = (r["state"], r["wait_event_type"], r["wait_event"], r["q"] if shown else "")
                counts[tuple(str(k) for k in key)] += 1
            await asyncio.sleep(SAMPLE_SECS)
    finally:
        await conn.close()
    print(f"{samples} samples; average backends per state:")
    for key, n in counts.most_common(15):
        print(f"{n / max(samples, 1):7.2f}  {' / '.join(k for k in key if k)}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.pg_waits")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--database-like", default="village_bench_%")
    args = parser.parse_args()
    asyncio.run(sample(args.seconds, args.database_like))


if __name__ == "__main__":
    main()
