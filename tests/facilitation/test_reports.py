"""Members report messages; only facilitators see reports and who made them."""

from __future__ import annotations

import json
from typing import Any

from starlette.testclient import TestClient

from tests.conftest import World
from tests.facilitation.conftest import audit_rows, entered, get, post, query
from tests.web.test_room_socket import connect, recv_until, send


def frames_until(ws: Any, body: str) -> list[str]:
    """Every raw frame up to and including the message with this body."""
    raw = []
    for _ in range(100):
        text = ws.receive_text()
        raw.append(text)
        frame = json.loads(text)
        if frame["type"] == "message" and frame["body"] == body:
            return raw
    raise AssertionError(f"no message {body!r}")


def test_reported_member_never_learns_who_reported(client: TestClient, world: World) -> None:
    """Bea reports Amara: the facilitator sees Bea's report; Amara, her pages and the
    clinician's socket never carry Bea's identity."""
    with connect(client, world, "amara") as a, connect(client, world, "facilitator") as f:
        entered(a)
        entered(f)
        send(a, "you are all useless", "r1")
        recv_until(a, "ack")
        recv_until(f, "message")
        r = post(client, world, "bea", "/messages/1/report", {"reason": "Hurtful"})
        assert r.status_code == 200
        assert r.json()["message"] == (
            "Thank you. The facilitators will look at it. "
            "Nobody else is told that you reported it, including the person who wrote it."
        )
        flag = recv_until(f, "flag")["flag"]
        assert flag["kind"] == "report" and flag["status"] == "open"
        assert flag["member"] == {"id": world.amara.id, "name": "Amara"}
        assert flag["report"] == {
            "reason": "Hurtful",
            "reporter": {"id": world.bea.id, "name": "Bea"},
        }
        assert flag["message"] == {"seq": 1, "status": "visible", "body": "you are all useless"}
        # A later message is the sentinel: everything before it has been delivered.
        send(f, "Let's keep it kind, everyone.", "f1")
        with connect(client, world, "clinician") as c:
            entered(c)
            send(f, "sentinel", "f2")
            seen_by_clinician = frames_until(c, "sentinel")
        seen_by_amara = frames_until(a, "sentinel")
    for raw in seen_by_amara + seen_by_clinician:
        assert "Bea" not in raw and "report" not in raw and f'"id":{world.bea.id}' not in raw
    for path in ("/messages", "/flags", "/moderation"):
        resp = get(client, world, "amara", path)
        assert "Bea" not in resp.text and "Hurtful" not in resp.text
    assert get(client, world, "amara", "/flags").status_code == 403
    page = client.get(f"/rooms/{world.room_id}", headers={"cookie": world.amara.cookie})
    assert page.status_code == 200 and "Bea" not in page.text and "Hurtful" not in page.text
    (row,) = audit_rows(world, "message.report")
    assert row.actor_id == world.bea.id and row.target_type == "message"
    assert "Hurtful" not in json.dumps(row.detail)


def test_report_rules(client: TestClient, world: World) -> None:
    """Own messages cannot be reported; a second report is accepted once; strangers get 404."""
    with connect(client, world, "amara") as a:
        entered(a)
        send(a, "hello", "o1")
        recv_until(a, "ack")
    own = post(client, world, "amara", "/messages/1/report")
    assert own.status_code == 400
    assert own.json()["message"] == "You cannot report your own message."
    assert post(client, world, "bea", "/messages/1/report").status_code == 200
    assert post(client, world, "bea", "/messages/1/report", {"reason": "again"}).status_code == 200
    assert post(client, world, "outsider", "/messages/1/report").status_code == 404
    assert post(client, world, "bea", "/messages/99/report").status_code == 404
    flags = get(client, world, "facilitator", "/flags").json()["flags"]
    assert len(flags) == 1 and flags[0]["report"]["reason"] == ""
    assert len(audit_rows(world, "message.report")) == 1


def test_facilitator_resolves_a_flag(client: TestClient, world: World) -> None:
    """Resolving takes the flag off the open list, keeps it in the resolved list, audits it."""
    with connect(client, world, "amara") as a:
        entered(a)
        send(a, "hello", "o1")
        recv_until(a, "ack")
    post(client, world, "bea", "/messages/1/report", {"reason": "spam"})
    (flag,) = get(client, world, "facilitator", "/flags").json()["flags"]
    assert post(client, world, "amara", f"/flags/{flag['id']}/resolve").status_code == 403
    r = post(client, world, "facilitator", f"/flags/{flag['id']}/resolve", {"note": "Talked"})
    assert r.json() == {"ok": True, "id": flag["id"], "status": "resolved"}
    assert get(client, world, "facilitator", "/flags").json()["flags"] == []
    resolved = get(client, world, "facilitator", "/flags?status=resolved").json()["flags"]
    assert [f["id"] for f in resolved] == [flag["id"]]
    again = post(client, world, "facilitator", f"/flags/{flag['id']}/resolve")
    assert again.status_code == 409
    (row,) = audit_rows(world, "flag.resolve")
    assert row.actor_id == world.facilitator.id and row.target_id == flag["id"]
    assert row.detail == {"kind": "report", "note": "Talked"}


def test_flags_panel_lists_risk_flags_first_by_severity(client: TestClient, world: World) -> None:
    """Rows the risk path writes to the shared flags table show in the panel, high first."""
    with connect(client, world, "amara") as a:
        entered(a)
        for i in range(3):
            send(a, f"message {i}", f"m{i}")
            recv_until(a, "ack")
    post(client, world, "bea", "/messages/1/report")
    ids = query(world, f"SELECT id, seq FROM messages WHERE room_id = {world.room_id}")
    by_seq = {seq: mid for mid, seq in ids}
    for seq, severity in ((2, "low"), (3, "high")):
        query(
            world,
            "INSERT INTO flags (group_id, room_id, kind, severity, message_id, member_id, "
            f"status, created_at) VALUES ({world.group_id}, {world.room_id}, 'risk', "
            f"'{severity}', {by_seq[seq]}, {world.amara.id}, 'open', '2026-01-01 00:00:00')",
        )
    flags = get(client, world, "facilitator", "/flags").json()["flags"]
    assert [(f["kind"], f["severity"]) for f in flags] == [
        ("risk", "high"),
        ("risk", "low"),
        ("report", ""),
    ]
    assert flags[0]["report"] is None and flags[0]["member"]["name"] == "Amara"
