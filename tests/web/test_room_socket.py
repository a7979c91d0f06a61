"""In-process WebSocket tests of the room protocol (TestClient, lifespan running)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from tests.conftest import World


def recv_until(ws: Any, kind: str, limit: int = 50) -> dict[str, Any]:
    for _ in range(limit):
        frame = ws.receive_json()
        if frame["type"] == kind:
            return frame
    raise AssertionError(f"no {kind} frame")


def connect(client: TestClient, world: World, who: str, after: int | None = None) -> Any:
    url = f"/ws/rooms/{world.room_id}" + (f"?after={after}" if after is not None else "")
    return client.websocket_connect(url, headers=world.people[who].ws_headers())


def joined(ws: Any) -> list[dict[str, Any]]:
    """Frames up to caught_up: welcome, backlog messages."""
    frames = []
    while True:
        f = ws.receive_json()
        frames.append(f)
        if f["type"] == "caught_up":
            return frames


def send(ws: Any, body: str, client_id: str) -> None:
    ws.send_json({"type": "send", "client_id": client_id, "body": body})


def test_two_members_chat(client: TestClient, world: World) -> None:
    """What Amara sends, Bea receives, with Amara's display name and role."""
    with connect(client, world, "amara") as a, connect(client, world, "bea") as b:
        joined(a)
        joined(b)
        send(a, "hello from amara", "c1")
        ack = recv_until(a, "ack")
        assert ack["client_id"] == "c1" and ack["seq"] == 1 and ack["duplicate"] is False
        msg = recv_until(b, "message")
        assert msg["body"] == "hello from amara"
        assert msg["sender"] == {"id": world.amara.id, "name": "Amara", "role": "member"}
        assert msg["seq"] == 1


def test_ack_comes_after_the_message_is_stored(client: TestClient, world: World) -> None:
    """When the ack arrives, the message is already readable through the history API."""
    with connect(client, world, "amara") as a:
        joined(a)
        send(a, "stored first", "store-1")
        ack = recv_until(a, "ack")
    history = client.get(
        f"/api/rooms/{world.room_id}/messages", headers={"cookie": world.amara.cookie}
    ).json()["messages"]
    assert [(m["seq"], m["body"]) for m in history] == [(ack["seq"], "stored first")]


def test_resend_with_same_client_id_gives_one_row_and_same_ack(
    client: TestClient, world: World
) -> None:
    """A retry after a lost ack is recognised: same seq, duplicate flag, no second message."""
    with connect(client, world, "amara") as a:
        joined(a)
        send(a, "only once please", "dup-1")
        first = recv_until(a, "ack")
        send(a, "only once please", "dup-1")
        second = recv_until(a, "ack")
    assert second["seq"] == first["seq"] and second["id"] == first["id"]
    assert second["duplicate"] is True
    history = client.get(
        f"/api/rooms/{world.room_id}/messages", headers={"cookie": world.bea.cookie}
    ).json()["messages"]
    assert [m["body"] for m in history] == ["only once please"]


def test_resume_gives_exactly_the_missed_messages_in_order(
    client: TestClient, world: World
) -> None:
    """Bea reconnects with her last seen id and gets what she missed, once, in order."""
    with connect(client, world, "amara") as a:
        joined(a)
        with connect(client, world, "bea") as b:
            joined(b)
            send(a, "one", "r1")
            recv_until(a, "ack")
            assert recv_until(b, "message")["body"] == "one"
            last_seen = 1
        for i in range(2, 6):
            send(a, f"msg {i}", f"r{i}")
            recv_until(a, "ack")
    with connect(client, world, "bea", after=last_seen) as b:
        frames = joined(b)
    got = [(f["seq"], f["body"]) for f in frames if f["type"] == "message"]
    assert got == [(2, "msg 2"), (3, "msg 3"), (4, "msg 4"), (5, "msg 5")]
    assert frames[-1] == {"type": "caught_up", "room": world.room_id, "last_seq": 5}


def test_fresh_connection_shows_recent_history(client: TestClient, world: World) -> None:
    """Opening the room without a last seen id shows the recent messages."""
    with connect(client, world, "amara") as a:
        joined(a)
        for i in range(3):
            send(a, f"earlier {i}", f"h{i}")
            recv_until(a, "ack")
    with connect(client, world, "facilitator") as f:
        frames = joined(f)
    assert [m["body"] for m in frames if m["type"] == "message"] == [
        "earlier 0",
        "earlier 1",
        "earlier 2",
    ]
    assert frames[0]["type"] == "welcome"
    assert frames[0]["you"] == {"id": world.facilitator.id, "name": "Rosa", "role": "facilitator"}


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{not json", "malformed_json"),
        ("[1, 2]", "malformed_frame"),
        ('{"type": "dance"}', "unknown_type"),
        ('{"type": "send", "client_id": "x1", "body": "   "}', "empty_message"),
        ('{"type": "send", "client_id": "", "body": "hi"}', "invalid_client_id"),
        ('{"type": "send", "client_id": 7, "body": "hi"}', "invalid_client_id"),
    ],
)
def test_bad_frames_get_error_frames_and_connection_survives(
    client: TestClient, world: World, raw: str, code: str
) -> None:
    """A bad frame is answered with an error frame; the same socket then still works."""
    with connect(client, world, "amara") as a:
        joined(a)
        a.send_text(raw)
        err = recv_until(a, "error")
        assert err["code"] == code
        send(a, "still here", "after-bad")
        assert recv_until(a, "ack")["client_id"] == "after-bad"


def test_overlong_message_is_refused_with_the_limit_in_the_error(
    client: TestClient, world: World
) -> None:
    """A message over the limit gets a clear error naming the limit, and is not stored."""
    with connect(client, world, "amara") as a:
        joined(a)
        send(a, "x" * 4001, "long-1")
        err = recv_until(a, "error")
    assert err == {
        "type": "error",
        "code": "message_too_long",
        "message": "That message is 4,001 characters; the limit is 4,000. "
        "Please split it into shorter messages.",
        "client_id": "long-1",
    }
    history = client.get(
        f"/api/rooms/{world.room_id}/messages", headers={"cookie": world.amara.cookie}
    ).json()["messages"]
    assert history == []


def test_oversize_frame_gets_error_and_connection_survives(
    client: TestClient, world: World
) -> None:
    """A frame bigger than the frame limit is answered, not crashed on."""
    with connect(client, world, "amara") as a:
        joined(a)
        a.send_text(json.dumps({"type": "send", "client_id": "big", "body": "y" * 40_000}))
        assert recv_until(a, "error")["code"] == "frame_too_large"
        a.send_json({"type": "ping", "nonce": 7})
        assert recv_until(a, "pong") == {"type": "pong", "nonce": 7}


def test_rate_limit_gives_error_frame_then_recovers(client: TestClient, world: World) -> None:
    """The eleventh message inside ten seconds is refused with retry_after, nothing crashes."""
    with connect(client, world, "amara") as a:
        joined(a)
        codes = []
        for i in range(11):
            send(a, f"quick {i}", f"rl{i}")
            frame = a.receive_json()
            while frame["type"] not in ("ack", "error"):
                frame = a.receive_json()
            codes.append(frame["type"] if frame["type"] == "ack" else frame["code"])
    assert codes == ["ack"] * 10 + ["rate_limited"]


def test_presence_shows_who_is_here_and_updates_on_leave(client: TestClient, world: World) -> None:
    """Members see who is in the room, with roles, and see someone leave."""
    with connect(client, world, "amara") as a:
        joined(a)
        with connect(client, world, "clinician") as c:
            joined(c)
            frame = recv_until(a, "presence")
            while len(frame["members"]) < 2:
                frame = recv_until(a, "presence")
            assert frame["members"] == [
                {"id": world.amara.id, "name": "Amara", "role": "member"},
                {"id": world.clinician.id, "name": "Dr Ade", "role": "clinician"},
            ]
        frame = recv_until(a, "presence")
        while len(frame["members"]) != 1:
            frame = recv_until(a, "presence")
        assert frame["members"] == [{"id": world.amara.id, "name": "Amara", "role": "member"}]


def test_logout_closes_that_users_open_sockets(client: TestClient, world: World) -> None:
    """Signing out in one tab closes her room socket with 4001 at once."""
    with connect(client, world, "amara") as a:
        joined(a)
        page = client.get("/groups", headers={"cookie": world.amara.cookie})
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        r = client.post(
            "/logout",
            data={"csrf": csrf},
            headers={"cookie": world.amara.cookie},
            follow_redirects=False,
        )
        assert r.status_code == 303
        with pytest.raises(WebSocketDisconnect) as closed:
            for _ in range(20):
                a.receive_json()
    assert closed.value.code == 4001


def test_removal_closes_the_members_socket_and_blocks_sending(
    client: TestClient, world: World
) -> None:
    """A facilitator removing Bea closes her socket with 4003; she cannot reconnect."""
    with connect(client, world, "bea") as b:
        joined(b)
        page = client.get("/admin", headers={"cookie": world.admin.cookie})
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        client.post(
            f"/admin/groups/{world.group_id}/members/{world.bea.id}/remove",
            data={"csrf": csrf},
            headers={"cookie": world.admin.cookie},
        )
        with pytest.raises(WebSocketDisconnect) as closed:
            for _ in range(20):
                b.receive_json()
    assert closed.value.code == 4003
    with pytest.raises(WebSocketDisconnect):
        with connect(client, world, "bea"):
            pass
