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


def _frames_until_ack(ws: Any, client_id: str) -> list[dict[str, Any]]:
    frames = []
    while (f := ws.receive_json())["type"] != "ack" or f["client_id"] != client_id:
        frames.append(f)
    return frames


@pytest.mark.parametrize("how", ["lock", "mute"])
@pytest.mark.parametrize("text", [IMMINENT, LOW])
def test_paused_member_with_risk_reaches_the_care_team_not_the_group(
    client: TestClient, world: World, how: str, text: str
) -> None:
    """Her words are stored and held for staff, and she gets crisis resources; an ordinary
    message is still refused; Bea never sees the held words."""
    with connect(client, world, "amara") as a, connect(client, world, "clinician") as c:
        entered(a)
        entered(c)
        _pause(client, world, how)
        send(a, text, "risk-1")
        ack = recv_until(a, "ack")
        assert recv_until(a, "care")["held"] is True
        assert recv_until(a, "message")["status"] == "held"
        assert recv_until(c, "message")["client_id"] == "risk-1"  # staff see it
        send(a, "ok, good night", "plain-1")
        assert recv_until(a, "error")["code"] == ("room_locked" if how == "lock" else "muted")
    with connect(client, world, "bea") as b:
        frames = entered(b)
        send(b, "hello?", "b1")
        frames += _frames_until_ack(b, "b1")
    assert all(f.get("client_id") != "risk-1" for f in frames)
    assert query(world, f"SELECT status FROM messages WHERE seq = {ack['seq']}") == [("held",)]
    holds = audit_rows(world, "message.hold")
    assert len(holds) == 1 and holds[0].actor_id is None
