"""What joining a room costs the database, and what a member sees when it cannot answer."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from sqlalchemy import Engine, event
from starlette.testclient import TestClient, WebSocketDenialResponse
from starlette.websockets import WebSocketDisconnect

from app.clock import FakeClock
from app.factory import create_app
from app.realtime.closecodes import TRY_AGAIN
from app.storage.pg_direct import DirectConnections
from tests.conftest import ORIGIN, World, _truncate_all, build_world, make_settings
from tests.web.test_room_socket import connect, joined, recv_until, send

BACKGROUND_TASKS = ("session-upkeep", "notification-dispatcher")


class _Units:
    """Transactions through SQLAlchemy and units on raw asyncpg connections, as the socket
    handlers run them (not the background pollers')."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_: Any) -> None:
        try:
            task = asyncio.current_task()
        except RuntimeError:
            task = None
        if task is None or task.get_name() not in BACKGROUND_TASKS:
            self.count += 1


@pytest.fixture
def units(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Units]:
    counter = _Units()
    run = DirectConnections.run

    async def counted(self: DirectConnections, fn: Any, *args: Any, **kw: Any) -> Any:
        counter()
        return await run(self, fn, *args, **kw)

    monkeypatch.setattr(DirectConnections, "run", counted)
    event.listen(Engine, "begin", counter)  # before the app's thread starts: no race
    try:
        yield counter
    finally:
        event.remove(Engine, "begin", counter)


def test_a_resume_costs_three_units_of_work_not_one_per_check(world: World, units: _Units) -> None:
    """Bea reconnects after three messages: she gets exactly those three, and her handshake
    (session, room, membership, backlog, room state, attendance) takes at most three
    transactions or raw units. It took six, each a pool checkout: a thousand such at once
    exhausted the pool."""
    with TestClient(create_app(world.settings), base_url=ORIGIN) as client:
        with connect(client, world, "amara") as a:
            joined(a)
            for n in range(3):
                send(a, f"while Bea was away {n}", f"away-{n}")
                recv_until(a, "ack")
            time.sleep(0.5)  # the staff roster and attendance writes of Amara's join settle
            units.count = 0
            with connect(client, world, "bea", after=0) as b:
                frames = joined(b)
                cost = units.count
        seqs = [f["seq"] for f in frames if f["type"] == "message"]
    assert seqs == [1, 2, 3]
    assert cost <= 3, cost


@pytest.fixture
def pg_world(pg_database: str) -> World:
    asyncio.run(_truncate_all(pg_database))
    world = asyncio.run(build_world(make_settings(pg_database)))
    world.settings = make_settings(pg_database, handshake_db_seconds=1.0)
    return world


@contextmanager
def _table_locked(db_url: str, table: str, release_after: float = 15.0) -> Iterator[None]:
    """Another session holds an exclusive lock on the table: statements on it wait. Released
    when the block ends, or after release_after seconds whatever happens (a handshake that
    waits for ever must fail this test, not hang it)."""
    locked, release = threading.Event(), threading.Event()

    async def hold() -> None:
        conn = await asyncpg.connect(db_url.replace("+asyncpg", ""))
        try:
            async with conn.transaction():
                await conn.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
                locked.set()
                # release is a thread's event: wait for it off this loop
                await asyncio.to_thread(release.wait, release_after)
        finally:
            await conn.close()

    thread = threading.Thread(target=asyncio.run, args=(hold(),))
    thread.start()
    assert locked.wait(10)
    try:
        yield
    finally:
        release.set()
        thread.join(20)


@pytest.mark.postgres
@pytest.mark.parametrize("table", ["login_sessions", "messages"])
def test_a_join_the_database_cannot_answer_is_told_to_retry_within_seconds(
    pg_world: World, table: str
) -> None:
    """While the database cannot answer the handshake's reads (the sign-in check, or the
    backlog), the socket is closed with 1013 'try again' within a few seconds instead of
    hanging; once it answers again, the retry catches up exactly."""
    world = pg_world
    with TestClient(create_app(world.settings), base_url=ORIGIN) as client:
        with connect(client, world, "amara") as a:
            joined(a)
            send(a, "before the wait", "w-1")
            recv_until(a, "ack")
        with _table_locked(world.settings.database_url, table):
            started = time.monotonic()
            closed = _closed_before_caught_up(client, world)
            waited = time.monotonic() - started
        assert closed is not None, "let in only once the database answered"
        assert closed.code == TRY_AGAIN
        assert closed.reason == "server busy: reconnect in a moment"
        assert waited < 5.0, waited
        with connect(client, world, "bea", after=0) as b:
            frames = joined(b)
    assert [f["body"] for f in frames if f["type"] == "message"] == ["before the wait"]


def _closed_before_caught_up(client: TestClient, world: World) -> WebSocketDisconnect | None:
    try:
        with connect(client, world, "bea", after=0) as b:
            while b.receive_json()["type"] != "caught_up":
                pass
    except WebSocketDisconnect as exc:
        return exc
    return None


def test_joining_a_room_keeps_her_signed_in_and_an_idle_session_is_refused_for_good(
    world: World,
) -> None:
    """Opening the room counts as activity, as a page does; after more than half an hour of
    nothing the socket is refused, and the session stays ended even under a longer limit."""
    clock = FakeClock(datetime.now(UTC))
    with TestClient(create_app(world.settings, clock=clock), base_url=ORIGIN) as client:
        clock.advance(minutes=20)
        with connect(client, world, "amara") as a:
            joined(a)
        clock.advance(minutes=20)  # 40 minutes since sign-in, 20 since the room
        assert client.get("/groups", headers={"cookie": world.amara.cookie}).status_code == 200
        clock.advance(minutes=31)
        with pytest.raises(WebSocketDenialResponse) as refused:
            with connect(client, world, "amara"):
                pass
        assert refused.value.status_code == 403
    longer = world.settings.model_copy(update={"session_idle_minutes": 120})
    with TestClient(create_app(longer, clock=clock), base_url=ORIGIN) as restarted:
        with pytest.raises(WebSocketDenialResponse):
            with connect(restarted, world, "amara"):
                pass


def test_only_members_enter_and_an_outsider_learns_nothing(
    client: TestClient, world: World
) -> None:
    """A member of another group and a removed member are refused as if the room did not
    exist; an unknown room too."""
    for who in ("outsider", "removed"):
        with pytest.raises(WebSocketDenialResponse) as refused:
            with connect(client, world, who):
                pass
        assert refused.value.status_code == 404
    with pytest.raises(WebSocketDenialResponse) as refused:
        with client.websocket_connect("/ws/rooms/999999", headers=world.amara.ws_headers()):
            pass
    assert refused.value.status_code == 404


async def test_fifty_sockets_joining_at_once_share_their_reads(world: World, units: _Units) -> None:
    """Fifty tabs of four people open the room at the same moment: each is admitted with her
    own seat and gets exactly the messages after her own resume point, from a handful of
    database units instead of two each."""
    from app import handshake
    from app.services import offline_services

    svc = offline_services(world.settings)
    try:
        people = ("amara", "bea", "facilitator", "clinician")
        tokens = [world.people[people[i % 4]].token for i in range(50)]
        units.count = 0
        admitted = await asyncio.gather(*(handshake.admit(svc, t, world.room_id) for t in tokens))
        caught = await asyncio.gather(*(handshake.catch_up(svc, a.seat, 0) for a in admitted))
        cost = units.count
    finally:
        await svc.db.aclose()
    assert [a.seat.user_id for a in admitted] == [world.people[people[i % 4]].id for i in range(50)]
    assert [a.seat.role for a in admitted[:4]] == ["member", "member", "facilitator", "clinician"]
    assert all(c.backlog == [] and len(c.greeting) == 1 for c in caught)
    assert cost <= 8, cost
