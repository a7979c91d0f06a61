"""Joins and leaves arriving together are written together: a reconnect storm must not cost
the database a transaction per socket, and no join or leave may be lost on the way."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event
from sqlmodel import select

from app import attendance
from app.storage.tables import ConnectionInterval
from tests.attendance.conftest import Env

TABS = 40


async def _intervals(env: Env) -> list[ConnectionInterval]:
    async with env.svc.db.transaction() as s:
        return list((await s.exec(select(ConnectionInterval))).all())


async def test_forty_tabs_joining_and_leaving_at_once_take_a_few_transactions(env: Env) -> None:
    """40 sockets join at once, then 20 leave at once: every join and leave is recorded, in a
    handful of transactions rather than 60."""
    seats = [await env.access(who) for who in ("amara", "bea") * (TABS // 2)]
    begins = 0

    def count(*_: Any) -> None:
        nonlocal begins
        begins += 1

    engine = env.svc.db.engine.sync_engine
    event.listen(engine, "begin", count)
    try:
        ivs = await asyncio.gather(*(attendance.connected(env.svc, seat) for seat in seats))
        env.clock.advance(minutes=5)
        half = TABS // 2
        await asyncio.gather(
            *(attendance.disconnected(env.svc, seats[i], ivs[i]) for i in range(half))
        )
    finally:
        event.remove(engine, "begin", count)
    assert begins <= 4
    rows = await _intervals(env)
    assert len(rows) == TABS
    assert sum(r.left_at is not None for r in rows) == half
    assert {r.user_id for r in rows} == {env.users["amara"].id, env.users["bea"].id}


async def test_a_tab_that_leaves_before_its_join_is_written_is_recorded_once_closed(
    env: Env,
) -> None:
    """Joined and gone within one batch: one interval, closed, not an open one left behind."""
    seat = await env.access("amara")
    iv = attendance.joined(env.svc, seat)
    env.clock.advance(seconds=30)
    await attendance.disconnected(env.svc, seat, iv)
    (row,) = await _intervals(env)
    assert row.left_at is not None
    assert (row.left_at - row.joined_at).total_seconds() == 30
