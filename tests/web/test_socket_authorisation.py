"""Authorisation on an open socket is read from the database at each send, not kept from the
handshake: a change made on another worker, whose event never reaches this one, still holds."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from app import groups, room_controls
from app.services import Services, offline_services
from app.storage import accounts as account_store
from app.storage.tables import User
from tests.conftest import World
from tests.facilitation.conftest import query
from tests.web.test_room_socket import connect, joined, recv_until, send


def on_another_worker(world: World, actor: str, action: Callable[..., Awaitable[Any]]) -> None:
    """Run `action(svc, actor_user)` through services whose hub reaches none of the client's
    sockets: as if another worker did it and its close or state event was lost."""

    async def run() -> None:
        svc: Services = offline_services(world.settings)
        try:
            async with svc.db.transaction() as s:
                user: User | None = await account_store.user_by_id(s, world.people[actor].id)
            assert user is not None
            await action(svc, user)
        finally:
            await svc.db.aclose()

    asyncio.run(run())


def reply(ws: Any) -> dict[str, Any]:
    """The server's answer to a send: its ack or its error, whichever comes (fails fast)."""
    for _ in range(50):
        frame = ws.receive_json()
        if frame["type"] in ("ack", "error"):
            return dict(frame)
    raise AssertionError("no ack or error")


def stored_bodies(world: World) -> list[str]:
    return [r[0] for r in query(world, "SELECT body FROM messages ORDER BY seq")]


def test_member_removed_elsewhere_cannot_send_on_her_still_open_socket(
    client: TestClient, world: World
) -> None:
    """Bea's socket missed her removal; her next message is refused with 4003, never stored
    and never seen by Amara."""
    with connect(client, world, "amara") as a, connect(client, world, "bea") as b:
        joined(a)
        joined(b)
        on_another_worker(
            world,
            "admin",
            lambda svc, admin: groups.remove_member(svc, admin, world.group_id, world.bea.id),
        )
        send(b, "am I still here?", "b1")
        with pytest.raises(WebSocketDisconnect) as closed:
            for _ in range(20):
                frame = b.receive_json()
                assert frame["type"] not in ("ack", "message"), frame
        assert closed.value.code == 4003
        send(a, "after bea left", "a1")
        msg = recv_until(a, "message")
        assert (msg["body"], msg["seq"]) == ("after bea left", 1)
    assert stored_bodies(world) == ["after bea left"]


def test_member_muted_elsewhere_is_refused_on_her_still_open_socket(
    client: TestClient, world: World
) -> None:
    """A mute whose event did not reach Amara's worker still refuses her message."""
    with connect(client, world, "amara") as a, connect(client, world, "bea") as b:
        joined(a)
        joined(b)
        on_another_worker(
            world,
            "facilitator",
            lambda svc, f: room_controls.mute_member(svc, f, world.room_id, world.amara.id, 10),
        )
        send(a, "can I still talk?", "m1")
        err = reply(a)
        assert err["type"] == "error" and err["code"] == "muted" and err["client_id"] == "m1"
        send(b, "I can", "b1")
        msg = recv_until(b, "message")
        assert (msg["body"], msg["seq"]) == ("I can", 1)
    assert stored_bodies(world) == ["I can"]


def test_room_locked_elsewhere_is_read_only_on_open_sockets(
    client: TestClient, world: World
) -> None:
    """A lock made on another worker refuses a member already connected; staff still write."""
    with connect(client, world, "amara") as a, connect(client, world, "facilitator") as f:
        joined(a)
        joined(f)
        on_another_worker(
            world,
            "facilitator",
            lambda svc, fac: room_controls.set_locked(svc, fac, world.room_id, True),
        )
        send(a, "hello?", "a1")
        err = reply(a)
        assert err["type"] == "error" and err["code"] == "room_locked"
        send(f, "a short pause, everyone", "f1")
        assert recv_until(a, "message")["body"] == "a short pause, everyone"
    assert stored_bodies(world) == ["a short pause, everyone"]
