"""Group commit for SQLite: one transaction per batch of units of work, run on the event loop
without ever waiting for the write lock.

aiosqlite hops to its thread and back through the event loop for every cursor call (~90 hops
for one message through the ORM). Here a unit of work (a synchronous function of Core
statements, e.g. app.storage.send_path.store_plain) runs as one call, and every unit asked for
in one turn of the event loop goes into the same transaction, each under its own savepoint, so
one BEGIN IMMEDIATE/COMMIT serves all of them. Nothing waits to fill a batch.

Where a batch runs: on the event loop, on a connection of its own, when the loop is the first
to ask (the app's case). A unit's statements take tens of microseconds, less than handing it to
a thread and back: the hand-off, the GIL going back and forth around every statement and the
wake-up of the loop cost more CPU than the SQL (docs/performance.md). That connection's BEGIN
IMMEDIATE never waits (busy_timeout 0): when another connection holds the write lock (an
action through aiosqlite, a CLI command, another process), the loop tries again a little later
without blocking, and units asked for meanwhile join the batch. It never checkpoints the WAL
itself (a checkpoint syncs the files and would stall every socket): the writer thread does,
every CHECKPOINT_EVERY commits. Units from any other event loop go to that thread, with its own
connection, whose BEGIN IMMEDIATE waits up to the busy timeout.

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


# The loop's commits between two WAL checkpoints (run on the writer thread). SQLite's own
# automatic checkpoint comes at 1,000 WAL pages; a stored message adds ~3 pages.
CHECKPOINT_EVERY = 300
# While another connection holds the write lock, the loop tries again after a quarter of the
# time waited so far, within these bounds (SQLite's own busy handler sleeps 1 ms to 100 ms).
BUSY_RETRY_MIN_SECS = 0.001
BUSY_RETRY_MAX_SECS = 0.025


class SqliteWriter:
    def __init__(
        self, engine: Engine, *, on_loop: bool = True, busy_timeout_secs: float = 10.0
    ) -> None:
        self._engine = engine
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="village-sqlite-writer")
        self._lock = threading.Lock()
        self._queue: list[_Unit] = []
        self._draining = False
        # Kept open between batches (only the writer thread touches it): checking a connection
        # out of the pool and back in cost as much CPU as a one-message batch's SQL.
        self._conn: Connection | None = None
        # The event loop's side: batches of the first loop that asks (another loop, e.g. a
        # test's second thread, uses the writer thread).
        self._on_loop = on_loop
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_conn: Connection | None = None
        self._pending: list[_Unit] = []
        self._flush_due = False
        self._busy_timeout = busy_timeout_secs
        self._busy_since: float | None = None  # loop time of the first try that found it taken
        self._commits = 0
        self._checkpoint_due = False
        self._closed = False

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(connection, *args)` in the next batch; its return value once that commits."""
        loop = asyncio.get_running_loop()
        unit = _Unit(fn, args, loop.create_future(), loop)
        if self._on_loop and (self._loop is None or self._loop is loop):
            self._loop = loop
            self._pending.append(unit)
            if not self._flush_due:
                self._flush_due = True
                loop.call_soon(self._flush)
        else:
            self._submit([unit])
        return await unit.future  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        self._closed = True
        batch, self._pending = self._pending, []
        for unit in batch:  # still waiting for the lock: nothing of them was stored
            unit.value = ConnectionError("the database was closed before this was stored")
        _settle(batch)
        self._drop_loop_connection()
        await asyncio.get_running_loop().run_in_executor(self._thread, self._dispose)
        self._thread.shutdown(wait=False)

    def _dispose(self) -> None:
        self._drop(self._conn)
        self._conn = None
        self._engine.dispose()

    @staticmethod
    def _drop(conn: Connection | None) -> None:
        if conn is not None:
            try:
                conn.close()
            except Exception:
                conn.invalidate()

    # --- on the event loop --------------------------------------------------------------------

    def _flush(self) -> None:
        self._flush_due = False
        if not self._pending or self._closed:
            return
        try:
            if self._loop_conn is None:
                self._loop_conn = self._connect_for_loop()
            tx = self._loop_conn.begin()
        except Exception as exc:
            if self._loop_conn is not None and self._loop_conn.in_transaction():
                self._drop_loop_connection()
            self._retry_later(exc)
            return
        self._busy_since = None
        batch, self._pending = self._pending, []
        try:
            self._run_units(self._loop_conn, batch)
            tx.commit()
        except Exception as exc:  # a lone unit or COMMIT failed: nothing is stored
            self._drop_loop_connection()
            for unit in batch:
                unit.ok, unit.value = False, exc
        else:
            self._commits += 1
            if self._commits >= CHECKPOINT_EVERY and not self._checkpoint_due:
                self._commits, self._checkpoint_due = 0, True
                self._thread.submit(self._checkpoint)
        _settle(batch)

    def _retry_later(self, exc: Exception) -> None:
        """The write lock is taken (most likely: no waiting on the loop). Try again shortly,
        as SQLite's busy handler would but without blocking the loop; units asked for
        meanwhile join the batch. Past the busy timeout the batch fails (nothing stored)."""
        assert self._loop is not None
        now = self._loop.time()
        if self._busy_since is None:
            self._busy_since = now
        waited = now - self._busy_since
        if waited >= self._busy_timeout:
            self._busy_since = None
            batch, self._pending = self._pending, []
            for unit in batch:
                unit.ok, unit.value = False, exc
            _settle(batch)
            return
        self._flush_due = True
        delay = min(BUSY_RETRY_MAX_SECS, max(BUSY_RETRY_MIN_SECS, waited / 4))
        self._loop.call_later(delay, self._flush)

    def _drop_loop_connection(self) -> None:
        conn, self._loop_conn = self._loop_conn, None
        if conn is not None:
            # Closed for good, never back to the pool: its pragmas are for the loop only.
            conn.invalidate()
            conn.close()

    def _connect_for_loop(self) -> Connection:
        conn = self._engine.connect()
        raw = conn.connection.driver_connection
        assert raw is not None
        raw.execute("PRAGMA busy_timeout=0")  # never wait for the lock on the loop
        raw.execute("PRAGMA wal_autocheckpoint=0")  # the thread checkpoints (it syncs files)
        return conn

    # --- on the writer thread -----------------------------------------------------------------

    def _submit(self, units: list[_Unit]) -> None:
        with self._lock:
            self._queue.extend(units)
            start, self._draining = not self._draining, True
        if start:
            self._thread.submit(self._drain)

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
            with self._conn.begin():
                self._run_units(self._conn, batch)
        except Exception as exc:  # BEGIN, a lone unit, or COMMIT failed: nothing is stored
            self._drop(self._conn)  # the next batch starts on a fresh one, whatever broke
            self._conn = None
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

    def _checkpoint(self) -> None:
        self._checkpoint_due = False
        try:
            if self._conn is None:
                self._conn = self._engine.connect()
            raw = self._conn.connection.driver_connection
            assert raw is not None
            # PASSIVE: copies what no reader still needs, never waits for or blocks a writer.
            raw.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except Exception:
            self._drop(self._conn)
            self._conn = None

    @staticmethod
    def _run_units(conn: Connection, batch: list[_Unit]) -> None:
        """Inside the batch's transaction. A lone unit's error escapes (its transaction is
        rolled back); in a batch each unit has a savepoint and fails alone."""
        if len(batch) == 1:
            unit = batch[0]
            unit.value, unit.ok = unit.fn(conn, *unit.args), True
            return
        # Straight on the driver: these run per unit, and SQLAlchemy's execution context
        # cost more than SQLite does.
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


def _settle(units: list[_Unit]) -> None:
    for unit in units:
        if unit.future.done():
            continue  # the caller was cancelled; what was committed stays committed
        if unit.ok:
            unit.future.set_result(unit.value)
        else:
            unit.future.set_exception(unit.value)
