"""The outbox and the ladder: real SMTP server, injected clock, dispatcher ticked by the test."""

from __future__ import annotations

import asyncio

from app.clock import FakeClock
from tests.conftest import World
from tests.escalations.conftest import SmtpServer, esc_settings, pick
from tests.escalations.helpers import (
    Dispatcher,
    audit_actions,
    escalations,
    notifications,
    send,
    services,
)


async def test_high_risk_message_emails_clinician_and_facilitator_without_its_text(
    world: World, smtp: SmtpServer, clock: FakeClock
) -> None:
    """A high-risk message emails the group's clinician and facilitator a link, never the words."""
    svc = services(esc_settings(world.settings, smtp.port), clock)
    text = pick("high")
    try:
        await send(svc, world.amara.id, world.room_id, text, "c1")
        assert await Dispatcher(svc).tick() == 2
    finally:
        await svc.db.aclose()
    (to_clinician,) = smtp.inbox.to("clinician@t.test")
    (to_facilitator,) = smtp.inbox.to("facilitator@t.test")
    [esc] = await _escalations(world, smtp, clock)
    body = to_clinician.get_payload()
    assert f"http://testserver/escalations/{esc.id}" in body
    assert "Severity: high" in body
    for mail in (to_clinician, to_facilitator):
        assert text not in mail.as_string()
        assert "Amara" not in mail.as_string()
    assert not smtp.inbox.to("bea@t.test")


async def _escalations(world: World, smtp: SmtpServer, clock: FakeClock):  # type: ignore[no-untyped-def]
    svc = services(esc_settings(world.settings, smtp.port), clock)
    try:
        return await escalations(svc)
    finally:
        await svc.db.aclose()


async def test_crash_between_commit_and_notification_is_delivered_after_restart(
    world: World, smtp: SmtpServer, clock: FakeClock
) -> None:
    """The process dies after the escalation commits and before any email: a restart sends it."""
    settings = esc_settings(world.settings, smtp.port)
    before_crash = services(settings, clock)
    await send(before_crash, world.amara.id, world.room_id, pick("imminent"), "c1")
    await before_crash.db.aclose()  # "crash": no dispatcher ever ran in that process
    assert smtp.inbox.messages == []

    after_restart = services(settings, clock)
    try:
        await Dispatcher(after_restart).tick()
        sent = await notifications(after_restart)
    finally:
        await after_restart.db.aclose()
    assert len(smtp.inbox.to("clinician@t.test")) == 1
    assert "EMERGENCY" in str(smtp.inbox.to("clinician@t.test")[0]["Subject"])
    assert {n.status for n in sent} == {"sent"}


async def test_smtp_outage_is_retried_with_backoff_and_delivered_when_it_returns(
    world: World, clock: FakeClock
) -> None:
    """SMTP is down when the escalation opens; the email goes out once the server is back."""
    server = SmtpServer()  # not started yet: connections are refused
    svc = services(esc_settings(world.settings, server.port), clock)
    dispatcher = Dispatcher(svc)
    try:
        await send(svc, world.amara.id, world.room_id, pick("high"), "c1")
        await dispatcher.tick()
        pending = await notifications(svc)
        assert {n.status for n in pending} == {"pending"}
        assert all(n.attempts == 1 and n.last_error for n in pending)

        server.start()
        clock.advance(seconds=9)  # the first retry waits notify_backoff_seconds (10 s)
        assert await dispatcher.tick() == 0
        clock.advance(seconds=2)
        assert await dispatcher.tick() == 2
        done = await notifications(svc)
        actions = await audit_actions(svc)
    finally:
        server.stop()
        await svc.db.aclose()
    assert {n.status for n in done} == {"sent"}
    assert all(n.attempts == 2 for n in done)
    assert len(server.inbox.to("clinician@t.test")) == 1
    assert actions.count("notification.retry") == 2 and actions.count("notification.sent") == 2


async def test_notification_that_keeps_failing_is_marked_failed_and_shown_to_admins(
    world: World, clock: FakeClock
) -> None:
    """After notify_max_attempts the row is marked failed; the admin page lists it."""
    from starlette.testclient import TestClient

    from app.factory import create_app
    from tests.conftest import ORIGIN
    from tests.escalations.conftest import free_port

    settings = esc_settings(world.settings, free_port())  # nothing ever listens there
    svc = services(settings, clock)
    dispatcher = Dispatcher(svc)
    try:
        await send(svc, world.amara.id, world.room_id, pick("high"), "c1")
        for _ in range(3):
            await dispatcher.tick()
            clock.advance(minutes=1)
        await dispatcher.tick()
        failed = await notifications(svc)
        actions = await audit_actions(svc)
    finally:
        await svc.db.aclose()
    assert [n.status for n in failed] == ["failed", "failed"]
    assert all(n.attempts == 3 for n in failed)
    assert actions.count("notification.failed") == 2

    with TestClient(create_app(settings, clock=clock), base_url=ORIGIN) as client:
        client.cookies.set("village_session", world.admin.token)
        page = client.get("/admin/notifications")
        assert page.status_code == 200
        assert "clinician@t.test" in page.text and "Connect" in page.text
        client.cookies.set("village_session", world.clinician.token)
        assert client.get("/admin/notifications").status_code == 404


async def test_ladder_renotifies_then_alerts_backup_then_admin_at_the_right_times(
    world: World, smtp: SmtpServer, clock: FakeClock
) -> None:
    """Unacknowledged: at 5 min clinicians are re-notified and on-call backup alerted; at 10 min
    the organisation admin; nothing before each deadline."""
    svc = services(esc_settings(world.settings, smtp.port), clock)
    d = Dispatcher(svc)
    try:
        await send(svc, world.amara.id, world.room_id, pick("high"), "c1")
        await d.tick()
        assert len(smtp.inbox.to("clinician@t.test")) == 1

        clock.advance(minutes=4, seconds=59)
        await d.tick()
        assert len(smtp.inbox.to("clinician@t.test")) == 1
        assert smtp.inbox.to("oncall@t.test") == []

        clock.advance(seconds=1)
        await d.tick()
        assert len(smtp.inbox.to("clinician@t.test")) == 2
        assert "REMINDER" in str(smtp.inbox.to("clinician@t.test")[1]["Subject"])
        assert len(smtp.inbox.to("oncall@t.test")) == 1
        assert smtp.inbox.to("admin@t.test") == []

        clock.advance(minutes=4, seconds=59)
        await d.tick()
        assert smtp.inbox.to("admin@t.test") == []
        clock.advance(seconds=1)
        await d.tick()
        assert len(smtp.inbox.to("admin@t.test")) == 1
        assert "ADMIN ALERT" in str(smtp.inbox.to("admin@t.test")[0]["Subject"])

        clock.advance(hours=1)
        await d.tick()
        assert len(smtp.inbox.messages) == 5  # clinician x2, facilitator, backup, admin
        assert (await audit_actions(svc)).count("escalation.ladder") == 2
    finally:
        await svc.db.aclose()


async def test_acknowledged_escalation_stops_the_ladder(
    world: World, smtp: SmtpServer, clock: FakeClock
) -> None:
    """A clinician acknowledges within 5 minutes: no reminder, no backup, no admin alert."""
    from app import escalations as domain
    from app.storage import accounts as account_store

    svc = services(esc_settings(world.settings, smtp.port), clock)
    d = Dispatcher(svc)
    try:
        await send(svc, world.amara.id, world.room_id, pick("high"), "c1")
        await d.tick()
        [esc] = await escalations(svc)
        clock.advance(minutes=3)
        async with svc.db.transaction() as s:
            clinician = await account_store.user_by_id(s, world.clinician.id)
        await domain.acknowledge(svc, clinician, esc.id)  # type: ignore[arg-type]
        clock.advance(minutes=30)
        await d.tick()
    finally:
        await svc.db.aclose()
    assert len(smtp.inbox.messages) == 2
    assert smtp.inbox.to("oncall@t.test") == []


async def test_ladder_deadline_survives_a_restart(
    world: World, smtp: SmtpServer, clock: FakeClock
) -> None:
    """The deadline is a row: a dispatcher started after a restart fires the overdue step."""
    settings = esc_settings(world.settings, smtp.port)
    first = services(settings, clock)
    await send(first, world.amara.id, world.room_id, pick("high"), "c1")
    await Dispatcher(first).tick()
    await first.db.aclose()

    clock.advance(minutes=6)  # the server was down across the deadline
    second = services(settings, clock)
    try:
        await Dispatcher(second).tick()
    finally:
        await second.db.aclose()
    assert len(smtp.inbox.to("clinician@t.test")) == 2
    assert len(smtp.inbox.to("oncall@t.test")) == 1


async def test_two_workers_dispatching_at_once_send_each_notification_once(
    world: World, smtp: SmtpServer, clock: FakeClock
) -> None:
    """Two dispatchers (two workers) on the same database claim rows and climb the ladder
    without doubling an email."""
    settings = esc_settings(world.settings, smtp.port)
    one, two = services(settings, clock), services(settings, clock)
    try:
        for i in range(3):
            await send(one, world.amara.id, world.room_id, pick("high"), f"c{i}")
        await asyncio.gather(Dispatcher(one).tick(), Dispatcher(two).tick())
        clock.advance(minutes=5)
        await asyncio.gather(Dispatcher(one).tick(), Dispatcher(two).tick())
        clock.advance(minutes=5)
        await asyncio.gather(Dispatcher(one).tick(), Dispatcher(two).tick())
        actions = await audit_actions(one)
    finally:
        await one.db.aclose()
        await two.db.aclose()
    # per escalation: opened (clinician, facilitator), reminder, backup, admin
    assert len(smtp.inbox.to("clinician@t.test")) == 6
    assert len(smtp.inbox.to("facilitator@t.test")) == 3
    assert len(smtp.inbox.to("oncall@t.test")) == 3
    assert len(smtp.inbox.to("admin@t.test")) == 3
    assert actions.count("escalation.ladder") == 6
