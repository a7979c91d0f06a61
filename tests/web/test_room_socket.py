"""In-process WebSocket tests of the room protocol (TestClient, lifespan running)."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

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
