"""Units of work straight on asyncpg, each statement its own (autocommit) transaction.

Through SQLAlchemy the common send on PostgreSQL was BEGIN, three statements and COMMIT: five
round trips, each a turn of the event loop, with the room counter's row lock held from the
UPDATE until the COMMIT came back. On a busy worker those turns are long: PostgreSQL showed
~22 backends "idle in transaction" on average and sends queued on the counter row
(docs/performance.md, redisscale section), and SQLAlchemy's execution and greenlet layers were
~30% of the worker's CPU. A unit that can be written as single statements runs here instead:
a statement's row locks last only as long as the statement, and its reply arrives after
its commit (a message is stored before it is acknowledged or published).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError

T = TypeVar("T")
CONNECT_TIMEOUT_SECS = 5.0
# Connections kept per worker: a unit is two short statements, so a few connections carry
# hundreds of messages per second; more would only queue on PostgreSQL's CPU instead.
DIRECT_CONNECTIONS = 8

AsyncUnit = Callable[..., Awaitable[T]]
# A connection-level failure: the connection is dropped and the next unit opens a new one.
_BROKEN = (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError, ConnectionError)


def asyncpg_dsn(url: str) -> str:
    """postgresql+asyncpg://… (SQLAlchemy's form) as asyncpg's own DSN."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class DirectConnections:
    """A few raw asyncpg connections, lent one unit at a time, opened on demand."""

    def __init__(self, url: str, size: int = DIRECT_CONNECTIONS) -> None:
        self._dsn = asyncpg_dsn(url)
        self._size = size
        self._idle: list[asyncpg.Connection] = []
        self._slots: asyncio.Semaphore | None = None
        self._all: set[asyncpg.Connection] = set()

    async def run(self, fn: AsyncUnit[T], *args: Any, wait_secs: float | None = None) -> T:
        """`await fn(connection, *args)`; database errors surface as SQLAlchemy's (the
        callers already handle IntegrityError and DBAPIError), without their parameters
        (a message's text never reaches a log). With wait_secs, TimeoutError when no
        connection is free by then (a unit that has started is never cut off: cancelling a
        statement costs the connection)."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._size)
        async with asyncio.timeout(wait_secs):
            await self._slots.acquire()
        try:
            return await self._run(fn, *args)
        finally:
            self._slots.release()

    async def _run(self, fn: AsyncUnit[T], *args: Any) -> T:
        conn = await self._take()
        try:
            result = await fn(conn, *args)
        except asyncpg.UniqueViolationError as exc:
            self._idle.append(conn)
            raise IntegrityError(str(exc.query or ""), None, exc) from exc
        except _BROKEN as exc:
            self._drop(conn)
            raise OperationalError("asyncpg", None, exc) from exc
        except asyncpg.PostgresError as exc:
            self._idle.append(conn)
            raise OperationalError(str(exc.query or ""), None, exc) from exc
        except BaseException:
            # Cancelled mid-statement: the protocol state is unknown, do not reuse it.
            self._drop(conn)
            raise
        self._idle.append(conn)
        return result

    async def _take(self) -> asyncpg.Connection:
        while self._idle:
            conn = self._idle.pop()
            if not conn.is_closed():  # the server closed it while idle (restart, timeout)
                return conn
            self._all.discard(conn)
        try:
            conn = await asyncpg.connect(self._dsn, timeout=CONNECT_TIMEOUT_SECS)
        except (*_BROKEN, asyncpg.PostgresError, TimeoutError) as exc:
            raise OperationalError("connect", None, exc) from exc
        self._all.add(conn)
        return conn

    def _drop(self, conn: asyncpg.Connection) -> None:
        self._all.discard(conn)
        conn.terminate()

    async def aclose(self) -> None:
        deadline = time.monotonic() + 2.0
        for conn in list(self._all):
            try:
                await asyncio.wait_for(conn.close(), max(0.1, deadline - time.monotonic()))
            except Exception:
                conn.terminate()
        self._all.clear()
        self._idle.clear()


def numbered(sql: str) -> tuple[str, tuple[str, ...]]:
    """:name parameters as asyncpg's $1, $2… and the names in their order."""
    names: list[str] = []

    def number(m: re.Match[str]) -> str:
        if m.group(1) not in names:
            names.append(m.group(1))
        return f"${names.index(m.group(1)) + 1}"

    return re.sub(r"(?<!:):(\w+)", number, sql), tuple(names)
