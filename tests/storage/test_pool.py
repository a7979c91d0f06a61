"""Pooled PostgreSQL connections: no ping on a busy pool, and a dead idle one is replaced."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection

from app.storage import database
from app.storage.database import Database
from tests.conftest import PG_ADMIN_DSN, _pg_exec

pytestmark = pytest.mark.postgres


async def _backend_pid(db: Database) -> int:
    async with db.engine.begin() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


def _count_pings(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    pings: list[int] = []
    real = AsyncAdapt_asyncpg_connection.ping

    def counted(self: AsyncAdapt_asyncpg_connection) -> None:
        pings.append(1)
        real(self)

    monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "ping", counted)
    return pings


async def test_connection_killed_while_idle_is_replaced_without_an_error(
    pg_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server-side timeout or restart killed the pooled connection while it sat idle: the
    next transaction still succeeds, on a new connection."""
    db = Database(pg_database, pool_size=1)
    try:
        dead = await _backend_pid(db)
        await _pg_exec(PG_ADMIN_DSN, f"SELECT pg_terminate_backend({dead})")
        monkeypatch.setattr(database, "PING_IF_IDLE_SECS", 0.0)  # it has been idle long enough
        assert await _backend_pid(db) != dead
    finally:
        await db.aclose()


async def test_busy_pool_skips_the_ping_and_an_idle_one_pings(
    pg_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Back-to-back transactions reuse the connection without the ping's three round trips;
    after PING_IF_IDLE_SECS of idleness each checkout pings first."""
    pings = _count_pings(monkeypatch)
    db = Database(pg_database, pool_size=1)
    try:
        first = await _backend_pid(db)
        for _ in range(3):
            assert await _backend_pid(db) == first
        assert pings == []
        monkeypatch.setattr(database, "PING_IF_IDLE_SECS", 0.0)
        for _ in range(3):
            assert await _backend_pid(db) == first
        assert len(pings) == 3
    finally:
        await db.aclose()
