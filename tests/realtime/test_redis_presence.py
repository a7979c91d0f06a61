"""Presence across workers through the real Redis; a dead worker's people expire."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from app.ratelimits import RateLimits
from app.realtime.redis_presence import RedisPresence
from tests.conftest import make_settings
from tests.support.processes import SHARED_REDIS

pytestmark = pytest.mark.redis

AMARA = {"id": 3, "name": "Amara", "role": "member"}
BEA = {"id": 4, "name": "Bea", "role": "member"}


async def test_people_on_two_workers_are_both_present() -> None:
    """Amara on one worker and Bea on another are both listed by either worker."""
    prefix = f"t-{uuid.uuid4().hex}"
    one, two = RedisPresence(SHARED_REDIS, prefix), RedisPresence(SHARED_REDIS, prefix)
    try:
        await one.add(1, "c1", AMARA)
        await two.add(1, "c1", BEA)
        await two.add(1, "c2", BEA)  # a second tab
        assert await one.members(1) == [AMARA, BEA]
        await two.remove(1, "c1")
        assert await one.members(1) == [AMARA, BEA]  # still there through the other tab
        await two.remove(1, "c2")
        assert await one.members(1) == [AMARA]
        assert await one.members(2) == []
    finally:
        await one.aclose()
        await two.aclose()


async def test_dead_workers_people_expire_and_survivors_are_told() -> None:
    """A worker that stops heartbeating (killed) drops out after three beats; the survivor
    sweeps its entries and reports the room as changed."""
    prefix = f"t-{uuid.uuid4().hex}"
    changed: list[int] = []

    async def on_expired(room_id: int) -> None:
        changed.append(room_id)

    survivor = RedisPresence(SHARED_REDIS, prefix, heartbeat_secs=0.2)
    survivor.on_expired = on_expired
    doomed = RedisPresence(SHARED_REDIS, prefix, heartbeat_secs=0.2)
    try:
        await survivor.add(5, "c1", AMARA)
        await doomed.add(5, "c1", BEA)
        assert await survivor.members(5) == [AMARA, BEA]
        assert doomed._heartbeat is not None
        doomed._heartbeat.cancel()  # the process died: no more heartbeats, no clean-up
        await asyncio.sleep(1.0)
        assert await survivor.members(5) == [AMARA]
        assert changed == [5]
    finally:
        doomed._local.clear()
        await doomed.aclose()
        await survivor.aclose()


async def test_two_workers_share_one_rate_limit(sqlite_url: str) -> None:
    """A member cannot double her message allowance by reaching two workers."""
    settings = make_settings(
        sqlite_url,
        broker_url=SHARED_REDIS,
        redis_prefix=f"t-{uuid.uuid4().hex}",
        messages_per_window=3,
    )
    one, two = RateLimits(settings), RateLimits(settings)
    results = [
        await one.message_allowed(3, 1),
        await two.message_allowed(3, 1),
        await one.message_allowed(3, 1),
        await two.message_allowed(3, 1),
    ]
    assert results == [True, True, True, False]
    assert await two.message_allowed(4, 1) is True  # someone else is not affected


async def test_a_burst_of_sends_on_two_workers_is_counted_exactly(sqlite_url: str) -> None:
    """Twenty sends at once from one member, split over two workers (each worker batches
    its waiting checks into one Redis round trip): exactly her allowance of five passes."""
    settings = make_settings(
        sqlite_url,
        broker_url=SHARED_REDIS,
        redis_prefix=f"t-{uuid.uuid4().hex}",
        messages_per_window=5,
    )
    workers = [RateLimits(settings), RateLimits(settings)]
    results = await asyncio.gather(*(workers[i % 2].message_allowed(3, 1) for i in range(20)))
    assert results.count(True) == 5
    assert await workers[0].message_allowed(3, 2) is True  # another room is not affected


async def test_messages_are_not_refused_while_redis_is_unreachable(sqlite_url: str) -> None:
    """The shared counter being down never stops a member from sending (the limit fails open)."""
    from tests.support.processes import free_port

    settings = make_settings(
        sqlite_url, broker_url=f"redis://127.0.0.1:{free_port()}/0", messages_per_window=1
    )
    limits = RateLimits(settings)
    assert [await limits.message_allowed(3, 1) for _ in range(3)] == [True, True, True]
    assert await limits.login_allowed("amara@t.test", "10.0.0.1") is True


async def test_two_hundred_tabs_joining_and_leaving_at_once_take_a_few_round_trips() -> None:
    """A reconnect wave: 200 tabs in two rooms join at once, all are present; half leave at
    once, the rest stay. Each wave takes a few pipelines, not one round trip per tab."""
    prefix = f"t-{uuid.uuid4().hex}"
    presence = RedisPresence(SHARED_REDIS, prefix)
    pipelines = 0
    make = presence._client.pipeline

    def counted(*args: object, **kw: object):  # type: ignore[no-untyped-def]
        nonlocal pipelines
        pipelines += 1
        return make(*args, **kw)  # type: ignore[arg-type]

    presence._client.pipeline = counted  # type: ignore[method-assign]
    cards = [{"id": 100 + i, "name": f"P{i:03}", "role": "member"} for i in range(200)]
    try:
        await asyncio.gather(*(presence.add(i % 2, f"c{i}", c) for i, c in enumerate(cards)))
        joined = pipelines
        assert await presence.members(0) == cards[0::2]
        assert await presence.members(1) == cards[1::2]
        pipelines = 0
        await asyncio.gather(*(presence.remove(i % 2, f"c{i}") for i in range(0, 200, 4)))
        left = pipelines
        assert await presence.members(0) == [c for i, c in enumerate(cards) if i % 4 == 2]
        assert await presence.members(1) == cards[1::2]
    finally:
        await presence.aclose()
    assert joined <= 4 and left <= 4, (joined, left)
