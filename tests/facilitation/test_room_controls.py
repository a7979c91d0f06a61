"""Room lock (read-only for members), slow mode, and removal from the room."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from app.clock import FakeClock
from tests.conftest import World
from tests.facilitation.conftest import audit_rows, entered, post
from tests.web.test_room_socket import connect, recv_until, send


def test_locked_room_is_read_only_for_members(client: TestClient, world: World) -> None:
    """Members are told the room is paused; the facilitator can still write; unlock reopens."""
    with connect(client, world, "amara") as a, connect(client, world, "facilitator") as f:
        entered(a)
        entered(f)
        r = post(client, world, "facilitator", "/lock", {"locked": True, "reason": "Break"})
        assert r.json() == {"ok": True, "locked": True}
        assert recv_until(a, "room_state")["locked"] is True
        send(a, "hello?", "l1")
        err = recv_until(a, "error")
        assert err["code"] == "room_locked" and err["client_id"] == "l1"
        assert err["message"] == (
            "A facilitator has paused this room: you can read, but not send, for now."
        )
        send(f, "We will be back in five minutes.", "f1")
        assert recv_until(f, "ack")["seq"] == 1
        assert recv_until(a, "message")["body"] == "We will be back in five minutes."
        post(client, world, "facilitator", "/lock", {"locked": False})
        assert recv_until(a, "room_state")["locked"] is False
        send(a, "hello again", "l2")
        assert recv_until(a, "ack")["seq"] == 2
    assert [r.action for r in audit_rows(world) if r.action.startswith("room.")] == [
        "room.lock",
        "room.unlock",
    ]
    assert audit_rows(world, "room.lock")[0].detail == {"reason": "Break"}


def test_slow_mode_allows_one_message_per_interval(
    client: TestClient, world: World, clock: FakeClock
) -> None:
    """In slow mode a second message within N seconds is refused with retry_after."""
    r = post(client, world, "facilitator", "/slow-mode", {"seconds": 30})
    assert r.json() == {"ok": True, "slow_mode_seconds": 30}
    with connect(client, world, "amara") as a:
        assert entered(a)[-1]["slow_mode_seconds"] == 30
        send(a, "first", "s1")
        assert recv_until(a, "ack")["seq"] == 1
        clock.advance(seconds=12)
        send(a, "second", "s2")
        err = recv_until(a, "error")
        assert err["code"] == "slow_mode" and err["retry_after"] == 18
        assert err["message"] == (
            "Slow mode is on: one message every 30 seconds. You can send again in 18 s."
        )
        # A resend of an already stored message is not a new message: still acknowledged.
        send(a, "first", "s1")
        assert recv_until(a, "ack")["duplicate"] is True
        clock.advance(seconds=18)
        send(a, "second", "s2")
        assert recv_until(a, "ack")["seq"] == 2
    bad = post(client, world, "facilitator", "/slow-mode", {"seconds": 601})
    assert bad.status_code == 400
    assert bad.json()["message"] == "Slow mode can be 0 (off) to 600 seconds."
    (row,) = audit_rows(world, "room.slow_mode")
    assert row.actor_id == world.facilitator.id and row.detail == {"seconds": 30, "previous": 0}


def test_members_cannot_lock_or_slow_the_room(client: TestClient, world: World) -> None:
    """Only facilitators and admins change room controls."""
    assert post(client, world, "amara", "/lock", {"locked": True}).status_code == 403
    assert post(client, world, "clinician", "/slow-mode", {"seconds": 5}).status_code == 403
    assert post(client, world, "outsider", "/lock", {"locked": True}).status_code == 404
    assert post(client, world, "admin", "/lock", {"locked": True}).status_code == 200


def test_facilitator_removes_a_member_from_the_room(client: TestClient, world: World) -> None:
    """Removal closes the member's socket with 4003, keeps her out, and records the reason."""
    with connect(client, world, "bea") as b:
        entered(b)
        r = post(
            client,
            world,
            "facilitator",
            f"/members/{world.bea.id}/remove",
            {"reason": "Repeated harassment"},
        )
        assert r.json() == {"ok": True}
        with pytest.raises(WebSocketDisconnect) as closed:
            for _ in range(20):
                b.receive_json()
        assert closed.value.code == 4003
    with pytest.raises(WebSocketDisconnect), connect(client, world, "bea") as again:
        again.receive_json()
    (row,) = [r for r in audit_rows(world, "membership.remove") if r.target_id == world.bea.id]
    assert row.actor_id == world.facilitator.id
    assert row.detail == {"reason": "Repeated harassment"}
    staff = post(client, world, "facilitator", f"/members/{world.clinician.id}/remove")
    assert staff.status_code == 403
    assert post(client, world, "amara", f"/members/{world.bea.id}/remove").status_code == 403
