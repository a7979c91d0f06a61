"""Engine and transactions. SQLite (embedded default, WAL) or PostgreSQL, chosen by URL."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from app.storage.pg_direct import DirectConnections
from app.storage.sqlite_writer import SqliteWriter

SQLITE_BUSY_TIMEOUT_MS = 10_000  # a CLI command writing while the server runs waits, not fails
# A pooled PostgreSQL connection returned this recently is used without a ping. Pinging at
# every checkout (pool_pre_ping) cost three round trips (BEGIN, a query, ROLLBACK) on top of
# each transaction; a connection that died in between fails its one transaction, and that
# disconnect error makes SQLAlchemy invalidate the whole pool, so the next one reconnects.
PING_IF_IDLE_SECS = 5.0

T = TypeVar("T")
READ_ONLY = "village_read_only"  # execution option of Database.reading's transactions


class DatabaseUnavailable(Exception):
    pass


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN IMMEDIATE instead of pysqlite's lazy one.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin_immediate(conn: Any) -> None:
        if conn.get_execution_options().get(READ_ONLY):
            # Database.reading: no write lock, so it never holds up the send path's writes.
            conn.exec_driver_sql("BEGIN")
            return
        # Take the write lock up front so two processes never deadlock upgrading a read lock.
        raw = conn.connection.driver_connection
        if isinstance(raw, sqlite3.Connection):
            # The writer thread's engine: straight on the driver, once per batch of sends
            # (SQLAlchemy's execution context cost more than the statement).
            raw.execute("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    if url.startswith("sqlite"):
        # One connection per process: SQLite has one writer anyway, and serialising in-process
        # avoids "database is locked" between our own coroutines.
        engine = create_async_engine(url, pool_size=1, max_overflow=0, pool_timeout=30)
        _sqlite_setup(engine.sync_engine)
        return engine
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=pool_size)
    _ping_if_idle(engine.sync_engine)
    return engine


def _ping_if_idle(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _fresh(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get("idle_since", 0.0) < PING_IF_IDLE_SECS:
            return
        try:
            dbapi_conn.ping()
        except Exception as exc:
            # The pool discards this connection and retries the checkout with a new one.
            raise DisconnectionError() from exc


def sqlite_writer_engine(url: str) -> Engine | None:
    """A plain (pysqlite) engine on the same file for Database.run_sync, or None when the
    database is in memory (a second connection would see another database)."""
    sync_url = url.replace("sqlite+aiosqlite:", "sqlite:", 1)
    if ":memory:" in sync_url or sync_url.rstrip("/") in ("sqlite:", "sqlite:/", "sqlite://"):
        return None
    # The writer thread and the event loop each keep one connection open (check_same_thread
    # False lets dispose() run elsewhere); the overflow connection serves anyone else (tests).
    engine = create_engine(
        sync_url,
        pool_size=2,
        max_overflow=1,
        connect_args={"check_same_thread": False},
    )
    _sqlite_setup(engine)
    return engine


class Database:
    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size=pool_size)
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )
        self._read_sessions = async_sessionmaker(
            self.engine.execution_options(**{READ_ONLY: True}),
            class_=AsyncSession,
            expire_on_commit=False,
        )
        # SQLite: run_sync's units of work run on the event loop on a connection of their own,
        # batched (group commit), instead of aiosqlite's hop to a thread per cursor call.
        writer_engine = sqlite_writer_engine(url) if self.is_sqlite else None
        self._writer = (
            SqliteWriter(writer_engine, busy_timeout_secs=SQLITE_BUSY_TIMEOUT_MS / 1000)
            if writer_engine is not None
            else None
        )
        # PostgreSQL: units that have an asyncpg variant run on raw connections, a statement
        # per transaction (app.storage.pg_direct); the rest go through SQLAlchemy.
        self._direct = DirectConnections(url) if url.startswith("postgresql") else None

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commits on success, rolls back on any exception."""
        async with self._sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A unit of work that only reads. On SQLite it takes no write lock (a deferred BEGIN
        instead of BEGIN IMMEDIATE), so it never makes a send wait; a write in it would risk
        "database is locked" without waiting, so it must not write."""
        async with self._read_sessions() as session, session.begin():
            yield session

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(connection, *args)`, a synchronous function of Core statements, as a unit
        of work: its writes are committed before this returns, and rolled back if it raises.
        On SQLite it runs on the group-commit writer (app.storage.sqlite_writer), possibly in
        one transaction with other units. On PostgreSQL a unit with an `on_asyncpg` variant
        (`async def variant(asyncpg_connection, *args)`, same result) runs that on a raw
        connection (app.storage.pg_direct); any other unit is its own transaction through
        SQLAlchemy and the async driver (asyncpg has no thread to hop to)."""
        if self._writer is not None:
            return await self._writer.run(fn, *args)
        variant = getattr(fn, "on_asyncpg", None)
        if variant is not None and self._direct is not None:
            return await self._direct.run(variant, *args)  # type: ignore[no-any-return]
        async with self.engine.begin() as aconn:
            return await aconn.run_sync(fn, *args)

    async def read(
        self, fn: Callable[..., Awaitable[T]], *args: Any, wait_secs: float | None = None
    ) -> T:
        """Run `await fn(session, *args)`, a unit of reads, in one transaction. On PostgreSQL
        a unit with an `on_asyncpg` variant (`async def variant(asyncpg_connection, *args)`,
        same result) runs that on a raw connection instead: no pool checkout, no BEGIN or
        COMMIT (app.storage.handshake). TimeoutError if no connection is free within
        wait_secs (through SQLAlchemy: if the unit is not done by then)."""
        variant = getattr(fn, "on_asyncpg", None)
        if variant is not None and self._direct is not None:
            return await self._direct.run(variant, *args, wait_secs=wait_secs)  # type: ignore[no-any-return]
        async with asyncio.timeout(wait_secs), self.transaction() as s:
            return await fn(s, *args)

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def aclose(self) -> None:
        await self.engine.dispose()
        if self._direct is not None:
            await self._direct.aclose()
        if self._writer is not None:
            await self._writer.aclose()
