"""The SQLite group-commit writer: units batched into one transaction stay independent."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, text

from app.storage.database import sqlite_writer_engine
from app.storage.sqlite_writer import SqliteWriter


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


async def test_a_failing_unit_stores_nothing_and_its_batch_neighbours_are_kept(
    tmp_path: Path,
) -> None:
    """Twelve units queued together: the four that raise get their own error and leave no row;
    the eight others are committed and get their result."""
    engine = _engine(tmp_path)
    writer = SqliteWriter(engine)
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


async def test_a_lone_failing_unit_is_rolled_back(tmp_path: Path) -> None:
    """With nothing else queued the unit is its own transaction, rolled back on error."""
    engine = _engine(tmp_path)
    writer = SqliteWriter(engine)
    try:
        with pytest.raises(ValueError):
            await writer.run(_store, 3)
        assert await writer.run(_store, 4) == 4
        with engine.connect() as conn:
            assert conn.execute(text("SELECT n FROM notes")).scalars().all() == [4]
    finally:
        await writer.aclose()
