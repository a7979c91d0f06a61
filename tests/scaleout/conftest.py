"""Fixtures for real multi-worker tests: PostgreSQL, Redis and uvicorn processes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest

from tests.conftest import ORIGIN, World, _truncate_all, build_world, make_settings
from tests.support.processes import SHARED_REDIS, Worker, worker_env

# A worker compiles the risk rules before it is ready: ~10 s of CPU on a loaded machine, and
# both start at once (the storm test timed out at 30 s at load 5.4).
WORKER_START_SECS = 90.0


@pytest.fixture
def pg_world(pg_database: str) -> World:
    asyncio.run(_truncate_all(pg_database))
    return asyncio.run(build_world(make_settings(pg_database)))


@pytest.fixture
def prefix() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def two_workers(pg_world: World, prefix: str) -> Iterator[list[Worker]]:
    env = worker_env(pg_world.settings.database_url, SHARED_REDIS, prefix, ORIGIN)
    workers = [Worker(env), Worker(env)]
    try:
        for w in workers:
            w.start(wait=False)
        for w in workers:
            w.wait_ready(timeout=WORKER_START_SECS)
        yield workers
    finally:
        for w in workers:
            w.stop()


async def db_messages(db_url: str, room_id: int) -> list[tuple[int, str, str]]:
    """(seq, client_id, body) of every stored message in the room, in order."""
    import asyncpg

    conn = await asyncpg.connect(db_url.replace("+asyncpg", ""))
    try:
        rows = await conn.fetch(
            "SELECT seq, client_id, body FROM messages WHERE room_id = $1 ORDER BY seq", room_id
        )
    finally:
        await conn.close()
    return [(r["seq"], r["client_id"], r["body"]) for r in rows]
