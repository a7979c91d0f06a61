"""Facilitators hide and unhide messages; members see a placeholder, staff see the text."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.conftest import World
from tests.facilitation.conftest import audit_rows, entered, get, post, query
from tests.web.test_room_socket import connect, joined, recv_until, send


def test_facilitator_hides_a_message_members_see_a_placeholder(
    client: TestClient, world: World
) -> None:
    """After a hide, members get the message without its text; the clinician still reads it."""
    with (
        connect(client, world, "amara") as a,
        connect(client, world, "bea") as b,
        connect(client, world, "clinician") as c,
    ):
        for ws in (a, b, c):
            entered(ws)
        send(a, "something unkind", "h1")
        recv_until(a, "ack")
        for ws in (b, c):
            recv_until(ws, "message")
        r = post(client, world, "facilitator", "/messages/1/hide", {"reason": "Unkind to Bea"})
        assert r.status_code == 200, r.text
        assert r.json() == {"ok": True, "seq": 1, "status": "hidden"}
        member_view = recv_until(b, "message_update")
        assert member_view["seq"] == 1 and member_view["status"] == "hidden"
        assert member_view["body"] == ""
        assert recv_until(a, "message_update")["body"] == ""
        staff_view = recv_until(c, "message_update")
        assert staff_view["body"] == "something unkind" and staff_view["status"] == "hidden"
    # A member who comes back later gets the placeholder from history too.
    with connect(client, world, "bea", after=0) as b:
        backlog = [f for f in joined(b) if f["type"] == "message"]
        assert backlog[0]["status"] == "hidden" and backlog[0]["body"] == ""
    history = get(client, world, "bea", "/messages").json()["messages"]
    assert "something unkind" not in str(history)
    (row,) = audit_rows(world, "message.hide")
    assert row.actor_id == world.facilitator.id and row.target_type == "message"
    assert row.detail == {"room_id": world.room_id, "seq": 1, "reason": "Unkind to Bea"}


def test_unhide_gives_members_the_text_back(client: TestClient, world: World) -> None:
    """Unhiding republishes the full message to everyone and is audited."""
    with connect(client, world, "amara") as a, connect(client, world, "bea") as b:
        entered(a)
        entered(b)
        send(a, "a fair point after all", "u1")
        recv_until(a, "ack")
        assert (
            post(client, world, "facilitator", "/messages/1/hide", {"reason": "x"}).status_code
            == 200
        )
        recv_until(b, "message_update")
        r = post(client, world, "facilitator", "/messages/1/unhide", {"reason": "Misread it"})
        assert r.json()["status"] == "visible"
        update = recv_until(b, "message_update")
        assert update["status"] == "visible" and update["body"] == "a fair point after all"
    again = post(client, world, "facilitator", "/messages/1/unhide")
    assert again.status_code == 409 and again.json()["message"] == "This message is not hidden."
    (row,) = audit_rows(world, "message.unhide")
    assert row.actor_id == world.facilitator.id and row.detail["reason"] == "Misread it"


def test_hiding_needs_a_reason(client: TestClient, world: World) -> None:
    """A hide without a reason is refused with a clear message and changes nothing."""
    with connect(client, world, "amara") as a:
        entered(a)
        send(a, "hello", "r1")
        recv_until(a, "ack")
    r = post(client, world, "facilitator", "/messages/1/hide", {"reason": "  "})
    assert r.status_code == 400
    assert r.json() == {
        "error": "reason_required",
        "message": "Please give a reason for hiding this message.",
    }
    assert get(client, world, "bea", "/messages").json()["messages"][0]["body"] == "hello"
    assert audit_rows(world, "message.hide") == []


def test_only_facilitators_and_admins_can_hide(client: TestClient, world: World) -> None:
    """Members and clinicians get 403, strangers 404; an admin may act without membership."""
    with connect(client, world, "amara") as a:
        entered(a)
        send(a, "hello", "p1")
        recv_until(a, "ack")
    for who in ("bea", "clinician"):
        r = post(client, world, who, "/messages/1/hide", {"reason": "no"})
        assert r.status_code == 403
        assert r.json()["message"] == "Only the group's facilitators can do that."
    for who in ("outsider", "removed"):
        r = post(client, world, who, "/messages/1/hide", {"reason": "no"})
        assert r.status_code in (401, 404)
        assert "hello" not in r.text
    assert audit_rows(world, "message.hide") == []
    r = post(client, world, "admin", "/messages/1/hide", {"reason": "Admin review"})
    assert r.status_code == 200
    (row,) = audit_rows(world, "message.hide")
    assert row.actor_id == world.admin.id


def test_moderation_posts_need_the_csrf_header(client: TestClient, world: World) -> None:
    """A cross-site POST without the session's CSRF token is refused."""
    with connect(client, world, "amara") as a:
        entered(a)
        send(a, "hello", "c1")
        recv_until(a, "ack")
    r = client.post(
        f"/api/rooms/{world.room_id}/messages/1/hide",
        json={"reason": "x"},
        headers={"cookie": world.facilitator.cookie, "x-csrf-token": "wrong"},
    )
    assert r.status_code == 403
    assert r.json()["message"] == "This page has expired. Please reload it and try again."
    assert audit_rows(world, "message.hide") == []


def test_held_messages_are_not_the_facilitators_to_hide(client: TestClient, world: World) -> None:
    """A message held for the care team cannot be hidden or unhidden (release is the risk
    path's action), and nothing is audited."""
    with connect(client, world, "amara") as a:
        entered(a)
        send(a, "held one", "held1")
        recv_until(a, "ack")
    query(world, f"UPDATE messages SET status = 'held' WHERE room_id = {world.room_id}")
    for action in ("hide", "unhide"):
        r = post(client, world, "facilitator", f"/messages/1/{action}", {"reason": "x"})
        assert r.status_code == 409
        assert r.json() == {
            "error": "message_held",
            "message": "This message is held for the care team.",
        }
    assert audit_rows(world, "message.hide") == audit_rows(world, "message.unhide") == []
