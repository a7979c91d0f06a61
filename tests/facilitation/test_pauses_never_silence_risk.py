"""A locked room or a muted member never silences risk: such words go to the care team."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import World
from tests.facilitation.conftest import audit_rows, entered, post, query
from tests.web.test_room_socket import connect, recv_until, send

IMMINENT = "i have the pills counted out and i'm taking them tonight"
LOW = "i havent slept in 4 days and i cry every single day"


def _pause(client: TestClient, world: World, how: str) -> None:
    if how == "lock":
        post(client, world, "facilitator", "/lock", {"locked": True, "reason": "Break"})
    else:
        body = {"minutes": 30, "reason": "Cooling off"}
        post(client, world, "facilitator", f"/members/{world.amara.id}/mute", body)


def _collect(ws: Any, kinds: set[str]) -> dict[str, dict[str, Any]]:
    """Read until one frame of each kind has arrived (their order may vary)."""
    got: dict[str, dict[str, Any]] = {}
    while not kinds <= got.keys():
        frame = ws.receive_json()
        got.setdefault(frame["type"], frame)
    return got


def _frames_until(ws: Any, client_id: str) -> list[dict[str, Any]]:
    """Every frame up to and including the message with this client id."""
    frames = []
    while True:
        frames.append(f := ws.receive_json())
        if f["type"] == "message" and f["client_id"] == client_id:
            return frames


@pytest.mark.parametrize("how", ["lock", "mute"])
@pytest.mark.parametrize("text", [IMMINENT, LOW])
def test_paused_member_with_risk_reaches_the_care_team_not_the_group(
    client: TestClient, world: World, how: str, text: str
) -> None:
    """Her words are stored and held for staff, and she gets crisis resources; an ordinary
    message is still refused; Bea never sees the held words, live or on reconnect."""
    with (
        connect(client, world, "amara") as a,
        connect(client, world, "clinician") as c,
        connect(client, world, "bea") as b,
    ):
        entered(a)
        entered(c)
        live = entered(b)
        _pause(client, world, how)
        send(a, text, "risk-1")
        got = _collect(a, {"ack", "care", "message"})
        ack = got["ack"]
        assert got["care"]["held"] is True and got["care"]["resources"]
        assert got["message"]["status"] == "held"
        assert recv_until(c, "message")["client_id"] == "risk-1"  # staff see it
        send(a, "ok, good night", "plain-1")
        assert recv_until(a, "error")["code"] == ("room_locked" if how == "lock" else "muted")
        send(c, "I'm here with you", "c1")  # staff may always write
        live += _frames_until(b, "c1")
    with connect(client, world, "bea") as b:
        backlog = entered(b)
    assert all(f.get("client_id") != "risk-1" for f in live + backlog)
    assert query(world, f"SELECT status FROM messages WHERE seq = {ack['seq']}") == [("held",)]
    holds = audit_rows(world, "message.hold")
    assert len(holds) == 1 and holds[0].actor_id is None
