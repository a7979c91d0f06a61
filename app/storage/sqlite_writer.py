"""Group commit for SQLite: one thread, one connection, one transaction per batch of units.

aiosqlite hops to its thread and back through the event loop for every cursor call (~90 hops
for one message through the ORM). Here a unit of work (a synchronous function of Core
statements, e.g. app.storage.send_path.store_plain) is one hop; and every unit queued while
the previous batch was being written goes into the next transaction, each under its own
savepoint, so one BEGIN IMMEDIATE/COMMIT serves all of them. Nothing waits to fill a batch: at
low load a batch is one unit.

A unit's result is handed back only after its batch has committed (a message is stored
before it is acknowledged). A unit that raises is rolled back to its savepoint alone; a failed
commit fails every unit of the batch, and nothing of it is stored.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

T = TypeVar("T")


@dataclass
class _Unit:
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop
    ok: bool = False
    value: Any = None


class SqliteWriter:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="village-sqlite-writer")
        self._lock = threading.Lock()
        self._queue: list[_Unit] = []
        self._draining = False
        # Kept open between batches (only the writer thread touches it): checking a connection
        # out of the pool and back in cost as much CPU as a one-message batch's SQL.
        self._conn: Connection | None = None

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(connection, *args)` in the next batch; its return value once that commits."""
        loop = asyncio.get_running_loop()
        unit = _Unit(fn, args, loop.create_future(), loop)
        with self._lock:
            self._queue.append(unit)
            start, self._draining = not self._draining, True
        if start:
            self._thread.submit(self._drain)
        return await unit.future  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._thread, self._dispose)
        self._thread.shutdown(wait=False)

    def _dispose(self) -> None:
        self._drop_connection()
        self._engine.dispose()

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:
                conn.invalidate()

    def _drain(self) -> None:
        while True:
            with self._lock:
                batch, self._queue = self._queue, []
                if not batch:
                    self._draining = False
                    return
            self._write(batch)

    def _write(self, batch: list[_Unit]) -> None:
        try:
            if self._conn is None:
                self._conn = self._engine.connect()
            conn = self._conn
            with conn.begin():
                if len(batch) == 1:
                    unit = batch[0]
                    unit.value, unit.ok = unit.fn(conn, *unit.args), True
                else:
                    # Straight on the driver: these run per unit, and SQLAlchemy's execution
                    # context cost more than SQLite does.
                    raw = conn.connection.driver_connection
                    assert raw is not None
                    for unit in batch:
                        raw.execute("SAVEPOINT unit")
                        try:
                            unit.value, unit.ok = unit.fn(conn, *unit.args), True
                        except Exception as exc:
                            raw.execute("ROLLBACK TO unit")
                            unit.value = exc
                        raw.execute("RELEASE unit")
        except Exception as exc:  # BEGIN, a lone unit, or COMMIT failed: nothing is stored
            self._drop_connection()  # the next batch starts on a fresh one, whatever broke
            for unit in batch:
                unit.ok, unit.value = False, exc
        by_loop: dict[asyncio.AbstractEventLoop, list[_Unit]] = {}
        for unit in batch:
            by_loop.setdefault(unit.loop, []).append(unit)
        for loop, units in by_loop.items():
            try:
                loop.call_soon_threadsafe(_settle, units)
            except RuntimeError:
                pass  # that loop has closed: nobody is waiting any more


def _settle(units: list[_Unit]) -> None:
    for unit in units:
        if unit.future.done():
            continue  # the caller was cancelled; what was committed stays committed
        if unit.ok:
            unit.future.set_result(unit.value)
        else:
            unit.future.set_exception(unit.value)
