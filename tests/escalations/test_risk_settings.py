"""Per-group thresholds, per-organisation crisis resources and ack timeout, and the report."""

from __future__ import annotations

from app import escalations as domain
from app import report
from app.clock import FakeClock
from app.storage import accounts as account_store
from app.storage.tables import GroupRiskThresholds, OrgRiskSettings
from tests.conftest import World
from tests.escalations.conftest import SmtpServer, esc_settings, pick
from tests.escalations.helpers import Dispatcher, escalations, send, services


async def test_group_thresholds_change_what_each_severity_does(
    world: World, clock: FakeClock
) -> None:
    """A group that escalates only at imminent turns a high message into a review item, and
    one that holds at high holds it."""
    svc = services(world.settings, clock)
    try:
        async with svc.db.transaction() as s:
            s.add(GroupRiskThresholds(group_id=world.group_id, escalate_at="imminent"))
        sent = await send(svc, world.amara.id, world.room_id, pick("high"), "c1")
        [review] = await escalations(svc)
        assert review.kind == "review" and review.next_deadline_at is None
        assert sent.care is None and sent.message.status == "visible"

        async with svc.db.transaction() as s:
            row = await s.get(GroupRiskThresholds, world.group_id)
            row.escalate_at, row.hold_at = "high", "high"  # type: ignore[union-attr]
            s.add(row)
        held = await send(svc, world.bea.id, world.room_id, pick("high"), "c2")
        assert held.message.status == "held" and held.care["held"] is True
    finally:
        await svc.db.aclose()


async def test_organisation_crisis_resources_and_ack_timeout_are_used(
    world: World, smtp: SmtpServer, clock: FakeClock
) -> None:
    """An organisation's own resources reach the member; its 2-minute timeout drives the ladder."""
    svc = services(esc_settings(world.settings, smtp.port), clock)
    ours = [{"name": "Our clinic line", "contact": "555-0100", "href": "tel:5550100"}]
    try:
        async with svc.db.transaction() as s:
            org_id = (await account_store.user_by_id(s, world.amara.id)).org_id  # type: ignore[union-attr]
            s.add(OrgRiskSettings(org_id=org_id, crisis_resources=ours, ack_timeout_minutes=2))
        sent = await send(svc, world.amara.id, world.room_id, pick("high"), "c1")
        assert sent.care["resources"] == ours
        d = Dispatcher(svc)
        await d.tick()
        clock.advance(minutes=2)
        await d.tick()
        assert len(smtp.inbox.to("clinician@t.test")) == 2
    finally:
        await svc.db.aclose()


async def test_report_counts_escalations_and_false_alarms_per_rule(
    world: World, smtp: SmtpServer, clock: FakeClock
) -> None:
    """The report counts by category and severity and rates each rule by 'not a risk'."""
    svc = services(esc_settings(world.settings, smtp.port), clock)
    try:
        await send(svc, world.amara.id, world.room_id, pick("high"), "c1")
        await send(svc, world.bea.id, world.room_id, pick("high"), "c2")
        clock.advance(seconds=3)
        await Dispatcher(svc).tick()
        first, second = await escalations(svc)
        async with svc.db.transaction() as s:
            clinician = await account_store.user_by_id(s, world.clinician.id)
        await domain.not_a_risk(svc, clinician, first.id, "a quote from a film")  # type: ignore[arg-type]
        await domain.resolve(svc, clinician, second.id, "safe_follow_up", "")  # type: ignore[arg-type]
        data = await report.build(svc)
    finally:
        await svc.db.aclose()
    assert data["notification_latency_seconds"]["count"] == 2
    assert data["notification_latency_seconds"]["p50"] == 3.0
    [row] = data["escalations_by_category_and_severity"]
    assert row["severity"] == "high" and row["count"] == 2
    rates = {r["rule"]: r for r in data["false_alarm_rate_per_rule"]}
    for rule in first.rules:
        assert rates[rule]["not_a_risk"] >= 1 and rates[rule]["resolved"] >= 1
    assert "False-alarm rate per rule" in report.render(data)
