"""The common send on SQLite (the embedded default), now stored on the event loop: two
workers on one file still get gap-free ids, a reader never holds a send up, timestamps read
back as written, and a sender's last messages are found by index, not by walking the room."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from app import messages
from app.access import Seat, enter_room
from app.clock import FakeClock
from app.services import Services
from app.settings import Settings
from app.storage import accounts as account_store
from app.storage.send_path import _CHECKS_SQL
from app.storage.tables import Message
from tests.conftest import World, build_world, make_settings
from tests.escalations.helpers import rows, services

PER_WORKER = 40


@pytest.fixture
def settings(sqlite_url: str) -> Settings:
    return make_settings(sqlite_url)


@pytest.fixture
def world(settings: Settings) -> World:
    return asyncio.run(build_world(settings))


async def _seat(svc: Services, world: World, who: str) -> Seat:
    async with svc.db.transaction() as s:
        user = await account_store.user_by_id(s, world.people[who].id)
    assert user is not None
    return (await enter_room(svc, user, world.room_id)).seat


async def test_two_workers_on_one_file_get_gap_free_ids(world: World) -> None:
    """Two workers (each its own connections to the file) store 40 messages each at the same
    moment while a third writer keeps taking the lock: ids 1..80, each stored once, each as
    acknowledged."""
    workers = [services(world.settings, FakeClock()) for _ in range(2)]
    other = sqlite3.connect(world.settings.database_url.split("///", 1)[1], isolation_level=None)
    busy = True

    async def another_writer() -> None:
        while busy:
            other.execute("BEGIN IMMEDIATE")
            other.execute("UPDATE users SET display_name = display_name WHERE id = 1")
            await asyncio.sleep(0.003)  # holding the lock while the loop turns
            other.execute("COMMIT")
            await asyncio.sleep(0.001)

    try:
        seats = [await _seat(workers[0], world, "amara"), await _seat(workers[1], world, "bea")]
        writer = asyncio.create_task(another_writer())
        sent = await asyncio.gather(
            *(
                messages.send_message(workers[w], seats[w], f"w{w}-{n}", f"hello {w}-{n}")
                for n in range(PER_WORKER)
                for w in range(2)
            )
        )
        busy = False
        await writer
        stored = await rows(workers[0], Message)
        assert sorted(m.seq for m in stored) == list(range(1, 2 * PER_WORKER + 1))
        assert sorted(s.message.seq for s in sent) == list(range(1, 2 * PER_WORKER + 1))
        assert {m.client_id: m.seq for m in stored} == {
            s.message.client_id: s.message.seq for s in sent
        }
        for w in range(2):  # each sender's messages in the order she sent them
            mine = [m.seq for m in stored if m.client_id.startswith(f"w{w}-")]
            assert mine == sorted(mine)
    finally:
        busy = False
        other.close()
        for svc in workers:
            await svc.db.aclose()


async def test_a_reader_does_not_hold_up_a_send(world: World) -> None:
    """While a read-only unit of work (a backlog, a room head, the dispatcher's tick) is open,
    a message is still stored and acknowledged: reads take no write lock."""
    svc = services(world.settings, FakeClock())
    try:
        seat = await _seat(svc, world, "amara")
        async with svc.db.reading() as s:
            await s.exec(text("SELECT count(*) FROM messages"))  # type: ignore[call-overload]
            sent = await asyncio.wait_for(messages.send_message(svc, seat, "c1", "hello"), 5)
        assert sent.message.seq == 1
        assert [m.body for m in await rows(svc, Message)] == ["hello"]
    finally:
        await svc.db.aclose()


async def test_a_message_stored_on_the_common_path_reads_back_with_its_time(
    world: World,
) -> None:
    """The common path binds created_at itself: read back through the ORM it is the same
    instant, in UTC, whatever zone the clock gave."""
    written = datetime(2026, 11, 26, 9, 30, 15, 123456, tzinfo=UTC)
    svc = services(world.settings, FakeClock(written.astimezone(timezone(timedelta(hours=-5)))))
    try:
        seat = await _seat(svc, world, "amara")
        await messages.send_message(svc, seat, "c1", "hello")
        svc.clock = FakeClock(written + timedelta(seconds=1))
        await messages.send_message(svc, seat, "c2", "again")
        stored = await rows(svc, Message)
        assert [m.created_at for m in stored] == [written, written + timedelta(seconds=1)]
        assert all(m.created_at.tzinfo is not None for m in stored)
    finally:
        await svc.db.aclose()


async def test_a_senders_last_messages_are_found_by_index(world: World) -> None:
    """The send rules read the sender's last messages in the room for every message. Each of
    those reads seeks the (room, sender, seq) index: without it SQLite walked back through
    the room's messages until it found hers, all of them for a member who rarely writes."""
    svc = services(world.settings, FakeClock())
    try:
        async with svc.db.reading() as s:
            plan = (
                await s.exec(  # type: ignore[call-overload]
                    text(f"EXPLAIN QUERY PLAN {_CHECKS_SQL}"),
                    params={"user": 1, "client_id": "x", "grp": 1, "room": 1, "now": "x"},
                )
            ).all()
        on_messages = [row[-1] for row in plan if "messages" in row[-1]]
        assert len(on_messages) == 5  # the client-id check and the four latest-message reads
        latest = [d for d in on_messages if "client_id" not in d]
        assert latest and all(
            "ix_messages_room_sender_seq (room_id=? AND sender_id=?)" in d for d in latest
        ), latest
    finally:
        await svc.db.aclose()
