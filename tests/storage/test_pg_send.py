"""The common send on PostgreSQL, straight on asyncpg (app.storage.pg_direct): two workers'
sends into one room get gap-free ids, a raced resend leaves no hole, and a connection the
server closed is replaced without failing a message."""

from __future__ import annotations

import asyncio

import pytest

from app import messages
from app.access import Seat, enter_room
from app.clock import FakeClock
from app.services import Services
from app.storage import accounts as account_store
from app.storage.tables import Message
from tests.conftest import PG_ADMIN_DSN, World, _pg_exec, _truncate_all
from tests.escalations.helpers import rows, services

pytestmark = pytest.mark.postgres
PER_WORKER = 40


@pytest.fixture
def db_url(pg_database: str) -> str:
    asyncio.run(_truncate_all(pg_database))
    return pg_database


async def _seat(svc: Services, world: World, who: str) -> Seat:
    async with svc.db.transaction() as s:
        user = await account_store.user_by_id(s, world.people[who].id)
    assert user is not None
    return (await enter_room(svc, user, world.room_id)).seat


async def test_two_workers_sending_into_one_room_get_gap_free_ids(world: World) -> None:
    """Two workers (each its own connections) store 40 messages each at the same moment:
    ids 1..80, each stored once, and each sender's messages in the order acknowledged."""
    workers = [services(world.settings, FakeClock()) for _ in range(2)]
    try:
        seats = [await _seat(workers[0], world, "amara"), await _seat(workers[1], world, "bea")]
        sent = await asyncio.gather(
            *(
                messages.send_message(workers[w], seats[w], f"w{w}-{n}", f"hello {w}-{n}")
                for n in range(PER_WORKER)
                for w in range(2)
            )
        )
        stored = await rows(workers[0], Message)
        assert sorted(m.seq for m in stored) == list(range(1, 2 * PER_WORKER + 1))
        assert sorted(s.message.seq for s in sent) == list(range(1, 2 * PER_WORKER + 1))
        assert {m.client_id: m.seq for m in stored} == {
            s.message.client_id: s.message.seq for s in sent
        }
    finally:
        for svc in workers:
            await svc.db.aclose()


async def test_a_resend_racing_on_two_workers_leaves_no_hole_in_the_ids(world: World) -> None:
    """The same client id arrives on both workers at once, several times: one row, every
    attempt acknowledged with its id, and the next message gets the very next id."""
    workers = [services(world.settings, FakeClock()) for _ in range(2)]
    try:
        seats = [await _seat(svc, world, "amara") for svc in workers]
        sent = await asyncio.gather(
            *(messages.send_message(workers[i % 2], seats[i % 2], "once", "hi") for i in range(8))
        )
        assert {s.message.seq for s in sent} == {1}
        assert sum(not s.duplicate for s in sent) == 1
        after = await messages.send_message(workers[1], seats[1], "next", "and again")
        assert after.message.seq == 2
    finally:
        for svc in workers:
            await svc.db.aclose()


async def test_a_connection_closed_by_the_server_is_replaced_without_an_error(
    world: World,
) -> None:
    """PostgreSQL restarted or timed out the idle connections: the next message is stored on
    a new connection, not refused."""
    svc = services(world.settings, FakeClock())
    try:
        seat = await _seat(svc, world, "amara")
        await messages.send_message(svc, seat, "before", "hello")
        name = world.settings.database_url.rsplit("/", 1)[1]
        await _pg_exec(
            PG_ADMIN_DSN,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            f" WHERE datname = '{name}' AND pid <> pg_backend_pid()",
        )
        await asyncio.sleep(0.2)  # the termination notice reaches the client
        sent = await messages.send_message(svc, seat, "after", "still here")
        assert sent.message.seq == 2
    finally:
        await svc.db.aclose()
