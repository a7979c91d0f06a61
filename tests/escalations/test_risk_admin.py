"""The admin's risk settings page: resources, timeout, backups and thresholds, validated."""

from __future__ import annotations

import asyncio

from sqlmodel import select
from starlette.testclient import TestClient

from app.services import offline_services
from app.storage.tables import AuditEntry, GroupRiskThresholds, OrgRiskSettings
from tests.conftest import World
from tests.escalations.web import get, joined, post, recv_until, room, say


def table(world: World, model):  # type: ignore[no-untyped-def]
    async def run():  # type: ignore[no-untyped-def]
        svc = offline_services(world.settings)
        try:
            async with svc.db.transaction() as s:
                return list((await s.exec(select(model))).all())
        finally:
            await svc.db.aclose()

    return asyncio.run(run())


def test_admin_sets_crisis_resources_that_members_then_receive(
    client: TestClient, world: World
) -> None:
    """The organisation's own list replaces the defaults in the member's care frame."""
    page = get(client, world.admin, "/admin/risk")
    assert page.status_code == 200 and "988 Suicide &amp; Crisis Lifeline" in page.text
    saved = post(
        client,
        world.admin,
        "/admin/risk/org",
        resources="Our clinic line | 555-0100 | tel:5550100\n"
        "Crisis text line | Text HOME to 741741",
        ack_minutes="3",
        backup_emails="oncall@t.test, second@t.test",
    )
    assert saved.status_code == 303
    [org] = table(world, OrgRiskSettings)
    assert org.ack_timeout_minutes == 3 and org.backup_emails == ["oncall@t.test", "second@t.test"]
    from tests.escalations.conftest import pick

    with room(client, world, "amara") as a:
        joined(a)
        say(a, pick("high"), "c1")
        care = recv_until(a, "care")
    assert [r["name"] for r in care["resources"]] == ["Our clinic line", "Crisis text line"]
    assert "risk.org_settings" in [e.action for e in table(world, AuditEntry)]


def test_bad_risk_settings_are_refused_with_a_clear_message(
    client: TestClient, world: World
) -> None:
    """A malformed resource line, a timeout out of range or review above escalation: 400."""
    r = post(client, world.admin, "/admin/risk/org", resources="just a name", ack_minutes="")
    assert r.status_code == 400 and "Line 1: write" in r.text
    r = post(client, world.admin, "/admin/risk/org", resources="", ack_minutes="0")
    assert r.status_code == 400 and "must be 1 to 120 minutes" in r.text
    r = post(
        client,
        world.admin,
        f"/admin/risk/groups/{world.group_id}",
        checkin_at="low",
        review_at="imminent",
        escalate_at="high",
        hold_at="imminent",
    )
    assert r.status_code == 400
    assert "The review threshold cannot be above the escalation threshold." in r.text
    r = post(
        client,
        world.admin,
        f"/admin/risk/groups/{world.group_id}",
        checkin_at="low",
        review_at="moderate",
        escalate_at="never",
        hold_at="imminent",
    )
    assert r.status_code == 400 and "escalate_at: choose one of moderate, high, imminent" in r.text
    assert table(world, OrgRiskSettings) == [] and table(world, GroupRiskThresholds) == []


def test_admin_sets_group_thresholds_and_only_admins_may(client: TestClient, world: World) -> None:
    """Thresholds are stored per group; the page is 404 for everyone but admins."""
    r = post(
        client,
        world.admin,
        f"/admin/risk/groups/{world.group_id}",
        checkin_at="never",
        review_at="moderate",
        escalate_at="high",
        hold_at="never",
    )
    assert r.status_code == 303
    [th] = table(world, GroupRiskThresholds)
    assert (th.checkin_at, th.hold_at) == ("never", "never")
    for who in ("clinician", "facilitator", "amara"):
        assert get(client, world.people[who], "/admin/risk").status_code == 404
