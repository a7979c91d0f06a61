"""The SQLite group-commit writer: units batched into one transaction stay independent, on the
event loop's connection and on the writer thread alike; the loop never waits for the write
lock; the WAL is checkpointed although the loop's connection never does it."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, text

from app.storage import sqlite_writer
from app.storage.database import sqlite_writer_engine
from app.storage.sqlite_writer import SqliteWriter

ON_LOOP = pytest.mark.parametrize("on_loop", [True, False], ids=["on_loop", "thread"])


def _store(conn: Connection, n: int) -> int:
    conn.execute(text("INSERT INTO notes (n) VALUES (:n)"), {"n": n})
    if n % 3 == 0:
        raise ValueError(f"unit {n} fails after writing")
    return n


def _engine(tmp_path: Path) -> Engine:
    """Set up as the app's writer is (WAL, BEGIN IMMEDIATE)."""
    engine = sqlite_writer_engine(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
    assert engine is not None
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE notes (n INTEGER NOT NULL)"))
    return engine


def _stored(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT n FROM notes ORDER BY n")).scalars().all())


@ON_LOOP
async def test_a_failing_unit_stores_nothing_and_its_batch_neighbours_are_kept(
    tmp_path: Path, on_loop: bool
) -> None:
    """Twelve units queued together: the four that raise get their own error and leave no row;
    the eight others are committed and get their result."""
    engine = _engine(tmp_path)
    writer = SqliteWriter(engine, on_loop=on_loop)
    try:
        results = await asyncio.gather(
            *(writer.run(_store, n) for n in range(1, 13)), return_exceptions=True
        )
        failed = [r for r in results if isinstance(r, ValueError)]
        assert [str(e) for e in failed] == [f"unit {n} fails after writing" for n in (3, 6, 9, 12)]
        assert [r for r in results if not isinstance(r, Exception)] == [1, 2, 4, 5, 7, 8, 10, 11]
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT n FROM notes ORDER BY n")).scalars().all()
        assert stored == [1, 2, 4, 5, 7, 8, 10, 11]
    finally:
        await writer.aclose()


@ON_LOOP
async def test_a_lone_failing_unit_is_rolled_back(tmp_path: Path, on_loop: bool) -> None:
    """With nothing else queued the unit is its own transaction, rolled back on error."""
    engine = _engine(tmp_path)
    writer = SqliteWriter(engine, on_loop=on_loop)
    try:
        with pytest.raises(ValueError):
            await writer.run(_store, 3)
        assert await writer.run(_store, 4) == 4
        with engine.connect() as conn:
            assert conn.execute(text("SELECT n FROM notes")).scalars().all() == [4]
    finally:
        await writer.aclose()


async def test_units_wait_for_another_writer_without_stalling_the_event_loop(
    tmp_path: Path,
) -> None:
    """Another connection (a CLI command, another process) holds the write lock for 0.3 s:
    the units wait, in one batch, while the event loop keeps turning; once the lock is free
    they are committed, in order."""
    engine = _engine(tmp_path)
    writer = SqliteWriter(engine)
    other = sqlite3.connect(tmp_path / "w.db", isolation_level=None)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticking = asyncio.create_task(ticker())
    try:
        other.execute("BEGIN IMMEDIATE")
        units = asyncio.gather(*(writer.run(_store, n) for n in (1, 2, 4)))
        await asyncio.sleep(0.3)
        assert not units.done()
        assert ticks >= 5, "the event loop was blocked while the lock was taken"
        other.execute("INSERT INTO notes (n) VALUES (100)")
        other.execute("COMMIT")
        assert await asyncio.wait_for(units, 5) == [1, 2, 4]
        assert _stored(engine) == [1, 2, 4, 100]
    finally:
        ticking.cancel()
        other.close()
        await writer.aclose()


async def test_past_the_busy_timeout_units_fail_and_store_nothing(tmp_path: Path) -> None:
    """A lock held longer than the busy timeout fails the waiting units (the client is told
    to retry) without storing them; the next unit, once the lock is free, is stored."""
    engine = _engine(tmp_path)
    writer = SqliteWriter(engine, busy_timeout_secs=0.2)
    other = sqlite3.connect(tmp_path / "w.db", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            await asyncio.wait_for(writer.run(_store, 1), 5)
        other.execute("COMMIT")
        assert await writer.run(_store, 2) == 2
        assert _stored(engine) == [2]
    finally:
        other.close()
        await writer.aclose()


async def test_the_wal_is_checkpointed_although_the_loop_never_does_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loop's connection has automatic checkpoints off (they sync files): the writer
    thread checkpoints every few commits, so the WAL is reused instead of growing with every
    message stored."""
    monkeypatch.setattr(sqlite_writer, "CHECKPOINT_EVERY", 10)
    engine = _engine(tmp_path)
    writer = SqliteWriter(engine)
    try:
        for n in range(1, 401):
            await writer.run(_store, n if n % 3 else n + 1000)  # no unit fails
            if n % 10 == 0:
                await asyncio.sleep(0.01)  # give the thread its turn, as a server's idle time
        wal = (tmp_path / "w.db-wal").stat().st_size
        # 400 commits of a page or two each would make a WAL of 1.6 MB or more.
        assert wal < 400_000, f"WAL is {wal} bytes"
        assert len(_stored(engine)) == 400
    finally:
        await writer.aclose()


async def test_units_waiting_for_the_lock_at_shutdown_fail_and_are_never_stored(
    tmp_path: Path,
) -> None:
    """Closing the writer while units wait for another connection's lock fails them (the
    clients resend to the next server) rather than leaving them hanging or storing them
    later from a closed database."""
    engine = _engine(tmp_path)
    writer = SqliteWriter(engine)
    other = sqlite3.connect(tmp_path / "w.db", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        waiting = asyncio.ensure_future(writer.run(_store, 1))
        await asyncio.sleep(0.05)
        await writer.aclose()
        with pytest.raises(ConnectionError):
            await asyncio.wait_for(waiting, 1)
        other.execute("COMMIT")
        await asyncio.sleep(0.05)  # a retry that was scheduled must not store it now
        assert _stored(engine) == []
    finally:
        other.close()
