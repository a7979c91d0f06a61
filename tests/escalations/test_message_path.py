"""What happens to a message at each severity, over the real WebSocket endpoint."""

from __future__ import annotations

import asyncio

import pytest
from starlette.testclient import TestClient

from app.clock import FakeClock
from app.services import offline_services
from app.storage.tables import AuditEntry, Escalation, Membership, Message
from tests.conftest import World
from tests.escalations.conftest import pick
from tests.escalations.helpers import rows
from tests.escalations.web import (
    frames_until,
    get,
    joined,
    post,
    recv_until,
    room,
    say,
    staff,
)


def table(world: World, model, *where):  # type: ignore[no-untyped-def]
    async def run():  # type: ignore[no-untyped-def]
        svc = offline_services(world.settings)
        svc.clock = FakeClock()
        try:
            return await rows(svc, model, *where)
        finally:
            await svc.db.aclose()

    return asyncio.run(run())


def test_no_risk_message_is_delivered_and_opens_nothing(client: TestClient, world: World) -> None:
    """An ordinary message reaches the group; no escalation, no care frame."""
    with room(client, world, "amara") as a, room(client, world, "bea") as b:
        joined(a), joined(b)
        say(a, pick("none"), "c1")
        assert recv_until(b, "message")["status"] == "visible"
        say(a, "second", "c2")
        frames = frames_until(a, "message", seq=2)
    assert not any(f["type"] == "care" for f in frames)
    assert table(world, Escalation) == []


def test_low_risk_message_is_delivered_and_staff_are_nudged_to_check_in(
    client: TestClient, world: World
) -> None:
    """Low: delivered, and the facilitator's console quietly suggests checking in with her."""
    with staff(client, world, "facilitator") as f, room(client, world, "amara") as a:
        recv_until(f, "queue")
        with room(client, world, "bea") as b:
            joined(a), joined(b)
            say(a, pick("low"), "c1")
            assert recv_until(b, "message")["status"] == "visible"
        nudge = recv_until(f, "checkin")
    assert nudge["text"] == "Consider checking in with Amara."
    assert nudge["member"] == {"id": world.amara.id, "name": "Amara"}
    assert table(world, Escalation) == []


def test_moderate_message_is_delivered_and_queued_for_clinician_review(
    client: TestClient, world: World
) -> None:
    """Moderate: delivered; a review item in the clinician's queue (no ladder) and a risk flag
    in the facilitators' panel."""
    text = pick("moderate")
    with (
        staff(client, world, "clinician") as c,
        room(client, world, "amara") as a,
        room(client, world, "facilitator") as f,
    ):
        recv_until(c, "queue")
        joined(f)
        with room(client, world, "bea") as b:
            joined(a), joined(b)
            say(a, text, "c1")
            assert recv_until(b, "message")["body"] == text
        item = recv_until(c, "escalation")
        flag = recv_until(f, "flag")["flag"]
    assert flag["kind"] == "risk" and flag["severity"] == "moderate"
    assert flag["member"] == {"id": world.amara.id, "name": "Amara"}
    assert item["kind"] == "review" and item["severity"] == "moderate"
    assert text not in str(item)
    [esc] = table(world, Escalation)
    assert esc.next_deadline_at is None
    assert get(client, world.clinician, "/api/escalations").json()["items"][0]["id"] == esc.id


def test_high_risk_message_is_delivered_escalated_and_the_member_privately_gets_resources(
    client: TestClient, world: World
) -> None:
    """High: delivered to the group; clinician and facilitator alerted live (no text); the
    member alone receives a warm message with crisis resources right after the ack."""
    text = pick("high")
    with (
        staff(client, world, "clinician") as c,
        staff(client, world, "facilitator") as f,
        room(client, world, "amara") as a,
        room(client, world, "bea") as b,
    ):
        recv_until(c, "queue"), recv_until(f, "queue")
        joined(a), joined(b)
        a.send_json({"type": "send", "client_id": "c1", "body": text})
        after_ack = frames_until(a, "care")
        assert [x["type"] for x in after_ack if x["type"] in ("ack", "care")] == ["ack", "care"]
        care = after_ack[-1]
        seen_by_bea = recv_until(b, "message")
        alert = recv_until(c, "escalation")
        assert recv_until(f, "escalation")["id"] == alert["id"]
        b.send_json({"type": "send", "client_id": "b1", "body": "sending love"})
        bea_frames = frames_until(b, "ack")
    assert seen_by_bea["body"] == text and seen_by_bea["status"] == "visible"
    assert care["held"] is False
    assert "988" in str(care["resources"]) and "1-800-944-4773" in str(care["resources"])
    assert "1-833-852-6262" in str(care["resources"]) and "911" in str(care["resources"])
    assert not any(x["type"] == "care" for x in bea_frames)
    assert alert["severity"] == "high" and alert["kind"] == "escalation"
    assert text not in str(alert)
    [esc] = table(world, Escalation)
    assert esc.next_deadline_at is not None and esc.state == "open"


def test_imminent_message_is_held_from_members_until_a_facilitator_releases_it(
    client: TestClient, world: World
) -> None:
    """Imminent: sender, facilitator and clinician see it marked held; Bea never does, live,
    on reconnect or through the API, until a facilitator releases it."""
    text = pick("imminent")
    with (
        room(client, world, "amara") as a,
        room(client, world, "bea") as b,
        room(client, world, "facilitator") as f,
        room(client, world, "clinician") as c,
    ):
        for ws in (a, b, f, c):
            joined(ws)
        a.send_json({"type": "send", "client_id": "c1", "body": text})
        own = frames_until(a, "care")
        care = own[-1]
        assert recv_until(f, "message")["status"] == "held"
        assert recv_until(c, "message")["status"] == "held"
        say(a, "sorry", "c2")
        bea_saw = frames_until(b, "message", seq=2)
    held_own = next(x for x in own if x["type"] == "message" or x["type"] == "ack")
    assert held_own is not None
    assert care["held"] is True and "care team" in care["message"]
    assert all(x.get("seq") != 1 for x in bea_saw if x["type"] == "message")
    with room(client, world, "bea", after=0) as b2:
        assert [x["seq"] for x in joined(b2) if x["type"] == "message"] == [2]
    api = get(client, world.bea, f"/api/rooms/{world.room_id}/messages").json()
    assert [m["seq"] for m in api["messages"]] == [2]
    [held] = table(world, Message, Message.seq == 1)
    assert held.status == "held"

    assert post(client, world.bea, f"/messages/{held.id}/release").status_code == 404
    with room(client, world, "bea") as b3:
        joined(b3)
        released = post(client, world.facilitator, f"/messages/{held.id}/release")
        assert released.status_code == 303
        frame = recv_until(b3, "message", seq=1)
    assert frame["body"] == text and frame["status"] == "visible"
    with room(client, world, "bea", after=0) as b4:
        assert [x["seq"] for x in joined(b4) if x["type"] == "message"] == [1, 2]
    actions = [e.action for e in table(world, AuditEntry)]
    assert "message.hold" in actions and "message.release" in actions


def test_engine_failure_delivers_the_message_and_queues_it_for_human_review(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the engine raises, the message is delivered and a review item opens: never 'none'."""
    import moderation

    def broken(text: str, *, recent: tuple[str, ...] = ()) -> object:
        raise moderation.AssessmentError("rules failed to load")

    monkeypatch.setattr(moderation, "assess", broken)
    with room(client, world, "amara") as a, room(client, world, "bea") as b:
        joined(a), joined(b)
        say(a, "hello everyone", "c1")
        assert recv_until(b, "message")["body"] == "hello everyone"
    [esc] = table(world, Escalation)
    assert esc.kind == "review" and esc.severity == "unassessed" and esc.state == "open"


def test_distress_never_mutes_removes_or_hides_the_member(client: TestClient, world: World) -> None:
    """A member who writes imminent-risk messages again and again stays a member, can keep
    writing, and none of her messages is hidden or deleted by the system."""
    before = max(e.id for e in table(world, AuditEntry))
    with room(client, world, "amara") as a:
        joined(a)
        for i in range(4):
            say(a, pick("imminent"), f"i{i}")
            say(a, pick("high"), f"h{i}")
        say(a, "still here", "last")
    [m] = table(world, Membership, Membership.user_id == world.amara.id)
    assert m.status == "active"
    msgs = table(world, Message, Message.sender_id == world.amara.id)
    assert len(msgs) == 9
    assert {x.status for x in msgs} <= {"visible", "held"}
    actions = {e.action for e in table(world, AuditEntry, AuditEntry.id > before)}
    assert actions == {"escalation.open", "message.hold"}


def test_resent_risk_message_gets_the_same_ack_and_the_care_frame_again(
    client: TestClient, world: World
) -> None:
    """If her first attempt's ack was lost, the resend is acknowledged as a duplicate and she
    still receives the crisis resources; no second escalation opens."""
    text = pick("high")
    with room(client, world, "amara") as a:
        joined(a)
        first = say(a, text, "c1")
        recv_until(a, "care")
        a.send_json({"type": "send", "client_id": "c1", "body": text})
        again = frames_until(a, "care")
    ack = next(f for f in again if f["type"] == "ack")
    assert ack["duplicate"] is True and ack["seq"] == first["seq"]
    assert "988" in str(again[-1]["resources"])
    assert len(table(world, Escalation)) == 1
