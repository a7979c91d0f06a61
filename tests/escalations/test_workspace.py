"""The clinician workspace: triage queue, escalation page, transitions, private follow-up."""

from __future__ import annotations

import asyncio

from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from app.clock import FakeClock
from app.factory import create_app
from app.services import offline_services
from app.storage.tables import AuditEntry, Escalation
from tests.conftest import ORIGIN, World, make_settings
from tests.escalations.conftest import pick
from tests.escalations.helpers import rows
from tests.escalations.web import get, joined, post, recv_until, room, say, staff


def table(world: World, model, *where):  # type: ignore[no-untyped-def]
    async def run():  # type: ignore[no-untyped-def]
        svc = offline_services(world.settings)
        svc.clock = FakeClock()
        try:
            return await rows(svc, model, *where)
        finally:
            await svc.db.aclose()

    return asyncio.run(run())


def raise_escalation(client: TestClient, world: World, severity: str, who: str = "amara") -> int:
    with room(client, world, who) as ws:
        joined(ws)
        say(ws, pick(severity), f"{severity}-{who}")
    return max(e.id for e in table(world, Escalation))  # type: ignore[no-any-return]


def test_triage_queue_orders_by_severity_then_age(client: TestClient, world: World) -> None:
    """Imminent first, then high, then moderate review items, oldest first within each."""
    first_high = raise_escalation(client, world, "high", "amara")
    moderate = raise_escalation(client, world, "moderate", "bea")
    imminent = raise_escalation(client, world, "imminent", "bea")
    with room(client, world, "amara") as ws:
        joined(ws)
        say(ws, pick("high"), "again")
    second_high = max(e.id for e in table(world, Escalation))
    items = get(client, world.clinician, "/api/escalations").json()["items"]
    assert [i["id"] for i in items] == [imminent, first_high, second_high, moderate]
    page = get(client, world.clinician, "/clinician")
    assert page.status_code == 200 and "Triage queue" in page.text


def test_only_the_groups_clinicians_see_the_queue_and_escalations(
    client: TestClient, world: World
) -> None:
    """Members, facilitators and outsiders get 404 for the queue and the escalation page."""
    esc = raise_escalation(client, world, "high")
    for who in ("amara", "bea", "facilitator", "outsider", "admin"):
        person = world.people[who]
        assert get(client, person, "/clinician").status_code == 404, who
        assert get(client, person, f"/escalations/{esc}").status_code == 404, who
        assert post(client, person, f"/escalations/{esc}/acknowledge").status_code == 404, who
    assert get(client, world.clinician, f"/escalations/{esc}").status_code == 200


def test_escalation_page_shows_highlighted_evidence_rules_and_context_and_is_audited(
    world: World,
) -> None:
    """The page shows the message with the engine's spans marked, the rule names, the
    messages around it, and each view is written to the audit log."""
    settings = make_settings(world.settings.database_url, messages_per_window=100)
    with TestClient(create_app(settings), base_url=ORIGIN) as client:
        _page_checks(client, world)


def _page_checks(client: TestClient, world: World) -> None:
    with room(client, world, "bea") as b, room(client, world, "amara") as a:
        joined(b), joined(a)
        for i in range(12):
            say(b, f"bea before {i}", f"b{i}")
        say(a, pick("high"), "risk")
        for i in range(12):
            say(b, f"bea after {i}", f"a{i}")
    [esc] = table(world, Escalation)
    page = get(client, world.clinician, f"/escalations/{esc.id}").text
    evidence = esc.assessment["evidence"][0]
    start, end = evidence["span"]
    assert f'<mark title="{evidence["cue"]}' in page
    assert f">{pick('high')[start:end]}</mark>" in page
    assert evidence["cue"] in page
    assert "bea before 2" in page and "bea before 1<" not in page
    assert "bea after 9" in page and "bea after 10" not in page
    views = table(world, AuditEntry, AuditEntry.action == "escalation.view")
    assert [(v.actor_id, v.target_id) for v in views] == [(world.clinician.id, esc.id)]


def test_each_transition_records_who_and_when_and_is_audited(
    client: TestClient, world: World
) -> None:
    """open → acknowledged → contacted → resolved, each with the clinician and the time."""
    esc_id = raise_escalation(client, world, "high")
    with staff(client, world, "facilitator") as f:
        recv_until(f, "queue")
        assert (
            post(client, world.clinician, f"/escalations/{esc_id}/acknowledge").status_code == 303
        )
        assert recv_until(f, "escalation")["state"] == "acknowledged"
        post(client, world.clinician, f"/escalations/{esc_id}/contacted")
        post(
            client,
            world.clinician,
            f"/escalations/{esc_id}/resolve",
            outcome="safe_follow_up",
            note="Spoke by phone; seeing her GP tomorrow.",
        )
        resolved = recv_until(f, "escalation", state="resolved")
    assert "note" not in resolved and "Spoke by phone" not in str(resolved)
    [esc] = table(world, Escalation)
    assert esc.state == "resolved" and esc.outcome == "safe_follow_up"
    assert esc.acknowledged_by == esc.contacted_by == esc.resolved_by == world.clinician.id
    assert esc.acknowledged_at and esc.contacted_at and esc.resolved_at
    assert esc.next_deadline_at is None
    actions = [
        (e.action, e.actor_id)
        for e in table(world, AuditEntry, AuditEntry.target_type == "escalation")
        if e.action != "escalation.view"
    ]
    assert actions == [
        ("escalation.open", None),
        ("escalation.acknowledge", world.clinician.id),
        ("escalation.contacted", world.clinician.id),
        ("escalation.resolve", world.clinician.id),
    ]
    again = post(client, world.clinician, f"/escalations/{esc_id}/acknowledge")
    assert again.status_code == 400 and "This escalation is already resolved." in again.text


def test_resolve_needs_a_known_outcome(client: TestClient, world: World) -> None:
    """An unknown outcome is refused with the list of outcomes, and nothing changes."""
    esc_id = raise_escalation(client, world, "high")
    r = post(client, world.clinician, f"/escalations/{esc_id}/resolve", outcome="meh", note="")
    assert r.status_code == 400
    assert "Choose an outcome: Safe, with follow-up, Referred" in r.text
    assert table(world, Escalation)[0].state == "open"


def test_not_a_risk_records_the_rules_that_fired(client: TestClient, world: World) -> None:
    """'Not a risk' resolves it and writes the rule names, for tuning the engine."""
    esc_id = raise_escalation(client, world, "high")
    post(client, world.clinician, f"/escalations/{esc_id}/not-a-risk", note="song lyrics")
    [esc] = table(world, Escalation)
    [row] = table(world, AuditEntry, AuditEntry.action == "escalation.resolve")
    assert esc.outcome == "not_a_risk" and esc.note == "song lyrics"
    assert row.detail["rules"] == esc.rules and esc.rules


def test_clinician_follows_up_privately_and_the_member_replies(
    client: TestClient, world: World
) -> None:
    """The clinician opens a 1:1 room; Amara is told where she is, finds it in her care-team
    view and replies; Bea and the facilitator cannot enter it."""
    esc_id = raise_escalation(client, world, "high")
    with room(client, world, "amara") as group_ws:
        joined(group_ws)
        r = post(client, world.clinician, f"/escalations/{esc_id}/private-room")
        assert r.status_code == 303
        private_id = int(r.headers["location"].rsplit("/", 1)[1])
        told = recv_until(group_ws, "reached_out")
    assert told["url"] == f"/rooms/{private_id}"
    care = get(client, world.amara, "/care")
    assert f"/rooms/{private_id}" in care.text
    assert f"/rooms/{private_id}" not in get(client, world.bea, "/care").text
    with (
        room(client, world, "clinician", private_id) as c,
        room(client, world, "amara", private_id) as a,
    ):
        joined(c), joined(a)
        say(c, "Hi Amara, I'm Dr Ade. Can we talk?", "c1")
        assert recv_until(a, "message")["body"] == "Hi Amara, I'm Dr Ade. Can we talk?"
        say(a, "yes please", "a1")
        assert recv_until(c, "message", seq=2)["body"] == "yes please"
    for who in ("bea", "facilitator"):
        try:
            with room(client, world, who, private_id):
                raise AssertionError(f"{who} entered the private room")
        except WebSocketDisconnect:
            pass
        assert get(client, world.people[who], f"/rooms/{private_id}").status_code == 404
    again = post(client, world.clinician, f"/escalations/{esc_id}/private-room")
    assert again.headers["location"] == f"/rooms/{private_id}"
    opened = table(world, AuditEntry, AuditEntry.action == "escalation.private_room")
    assert [(a.actor_id, a.detail["room_id"], a.detail["created"]) for a in opened] == [
        (world.clinician.id, private_id, True),
        (world.clinician.id, private_id, False),
    ]


def test_staff_socket_refuses_members_and_strangers(client: TestClient, world: World) -> None:
    """/ws/staff is for a group's clinicians and facilitators only."""
    for who in ("amara", "outsider"):
        try:
            with staff(client, world, who):
                raise AssertionError(f"{who} opened the staff socket")
        except WebSocketDisconnect:
            pass
    with staff(client, world, "clinician") as ws:
        assert recv_until(ws, "welcome")["groups"] == [world.group_id]


def test_removed_clinician_stops_hearing_about_escalations(
    client: TestClient, world: World
) -> None:
    """Once an admin removes the clinician from the group, her staff socket gets no further
    escalation and closes, and she cannot reconnect."""
    from app import groups
    from app.storage import accounts as account_store

    async def remove() -> None:
        svc = offline_services(world.settings)
        try:
            async with svc.db.transaction() as s:
                admin = await account_store.user_by_id(s, world.admin.id)
            await groups.remove_member(svc, admin, world.group_id, world.clinician.id)  # type: ignore[arg-type]
        finally:
            await svc.db.aclose()

    with staff(client, world, "clinician") as c:
        recv_until(c, "queue")
        asyncio.run(remove())
        raise_escalation(client, world, "high")
        try:
            frame = c.receive_json()
            raise AssertionError(f"a removed clinician received {frame}")
        except WebSocketDisconnect as closed:
            assert closed.code == 4000
    try:
        with staff(client, world, "clinician"):
            raise AssertionError("a removed clinician reopened the staff socket")
    except WebSocketDisconnect:
        pass


def test_escalation_page_shows_the_members_attendance(client: TestClient, world: World) -> None:
    """The clinician sees how often the member came to sessions, next to her earlier flags."""
    from app import group_sessions
    from tests.attendance.conftest import SESSION_START_UTC, make_env

    async def attend_one_session() -> None:
        env = await make_env(world)
        try:
            (gs,) = await env.schedule(minutes=60)
            env.clock._now = SESSION_START_UTC
            await group_sessions.start_session(env.svc, env.users["cps"], gs.id)  # type: ignore[arg-type]
            conn = await env.join("amara")
            env.clock.advance(minutes=50)
            await env.leave(conn)
            env.clock.advance(minutes=10)
            await group_sessions.end_session(env.svc, env.users["cps"], gs.id)  # type: ignore[arg-type]
        finally:
            await env.svc.db.aclose()

    asyncio.run(attend_one_session())
    eid = raise_escalation(client, world, "high")
    page = get(client, world.clinician, f"/escalations/{eid}")
    assert page.status_code == 200
    assert "Attendance in this group" in page.text
    assert "attended, 50 min" in page.text
