"""HTTP/WebSocket helpers for the escalation tests (TestClient, lifespan running)."""

from __future__ import annotations

import re
from typing import Any

from starlette.testclient import TestClient

from tests.conftest import Person, World


def recv_until(ws: Any, kind: str, limit: int = 50, **match: Any) -> dict[str, Any]:
    for _ in range(limit):
        frame = ws.receive_json()
        if frame["type"] == kind and all(frame.get(k) == v for k, v in match.items()):
            return frame
    raise AssertionError(f"no {kind} frame")


def frames_until(ws: Any, kind: str, limit: int = 50, **match: Any) -> list[dict[str, Any]]:
    """Every frame up to and including the first matching one."""
    out = []
    for _ in range(limit):
        frame = ws.receive_json()
        out.append(frame)
        if frame["type"] == kind and all(frame.get(k) == v for k, v in match.items()):
            return out
    raise AssertionError(f"no {kind} frame")


def room(client: TestClient, world: World, who: str, room_id: int | None = None, **q: Any) -> Any:
    after = f"?after={q['after']}" if "after" in q else ""
    url = f"/ws/rooms/{room_id or world.room_id}{after}"
    return client.websocket_connect(url, headers=world.people[who].ws_headers())


def staff(client: TestClient, world: World, who: str) -> Any:
    return client.websocket_connect("/ws/staff", headers=world.people[who].ws_headers())


def joined(ws: Any) -> list[dict[str, Any]]:
    frames = []
    while True:
        f = ws.receive_json()
        frames.append(f)
        if f["type"] == "caught_up":
            return frames


def say(ws: Any, body: str, client_id: str) -> dict[str, Any]:
    """Send and wait for the ack."""
    ws.send_json({"type": "send", "client_id": client_id, "body": body})
    return recv_until(ws, "ack", client_id=client_id)


def get(client: TestClient, person: Person, url: str) -> Any:
    return client.get(url, headers={"cookie": person.cookie}, follow_redirects=False)


def csrf(client: TestClient, person: Person) -> str:
    page = get(client, person, "/care")
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


def post(client: TestClient, person: Person, url: str, **form: str) -> Any:
    data = {"csrf": csrf(client, person), **form}
    return client.post(url, data=data, headers={"cookie": person.cookie}, follow_redirects=False)
