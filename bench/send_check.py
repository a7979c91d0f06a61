"""What the facilitation send check (lock, mute, slow mode) costs per stored message.

Usage: python bench/send_check.py [--db sqlite|postgres] [--messages 400]

Sends the same number of messages through messages.send_message as a member (checked: room
control and mute lookups, plus the last-message lookup when slow mode is on) and as the
facilitator (staff skip the check), in a fresh database, and prints the mean time per send.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.clock import FakeClock


async def run(db_url: str, n: int) -> dict[str, float]:
    from app import access, room_controls
    from app.messages import send_message
    from app.services import offline_services
    from app.storage import accounts as account_store
    from tests.conftest import build_world, make_settings

    settings = make_settings(db_url)
    world = await build_world(settings)
    svc = offline_services(settings)
    out: dict[str, float] = {}
    try:
        async with svc.db.transaction() as s:
            users = {
                k: await account_store.user_by_id(s, world.people[k].id)
                for k in ("amara", "facilitator")
            }
        for label, who, slow in (
            ("facilitator (no check)", "facilitator", 0),
            ("member (check)", "amara", 0),
            ("member (check, slow mode on)", "amara", 1),
        ):
            if slow:
                await room_controls.set_slow_mode(svc, users["facilitator"], world.room_id, 1)  # type: ignore[arg-type]
                # Each send is 2 s after the previous on an injected clock: none is refused.
                svc.clock = FakeClock(datetime.now(UTC) + timedelta(days=1))
            room_access = (await access.enter_room(svc, users[who], world.room_id)).seat  # type: ignore[arg-type]
            times = []
            for i in range(n):
                if slow:
                    svc.clock.advance(seconds=2)  # type: ignore[attr-defined]
                t0 = time.perf_counter()
                await send_message(svc, room_access, f"{label}-{i}", "a message of ordinary length")
                times.append(time.perf_counter() - t0)
            out[label] = statistics.mean(times[n // 10 :]) * 1000  # skip warm-up
    finally:
        await svc.db.aclose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--messages", type=int, default=400)
    args = parser.parse_args()
    from app.migrate import upgrade

    if args.db == "sqlite":
        url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
        upgrade(url)
        results = asyncio.run(run(url, args.messages))
    else:
        import asyncpg

        name = f"village_bench_{uuid.uuid4().hex[:8]}"

        async def admin(sql: str) -> None:
            conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/test")
            await conn.execute(sql)
            await conn.close()

        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
        try:
            url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
            upgrade(url)
            results = asyncio.run(run(url, args.messages))
        finally:
            asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    for label, ms in results.items():
        print(f"{args.db:8} {label:32} {ms:6.2f} ms per send (mean of {args.messages} sends)")


if __name__ == "__main__":
    main()
