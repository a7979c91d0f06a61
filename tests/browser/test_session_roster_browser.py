"""A facilitator starts a session from the room and sees a member appear on the roster."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD, World, in_thread


async def _schedule_soon(world: World, minutes_ahead: int) -> None:
    """A 60-minute session starting shortly, in the group's time zone."""
    from app import schedule
    from app.services import offline_services
    from app.storage import accounts as account_store

    svc = offline_services(world.settings)
    try:
        async with svc.db.transaction() as s:
            admin = await account_store.user_by_id(s, world.admin.id)
        assert admin is not None
        tz = schedule.zone((await schedule.effective_settings(svc, world.group_id)).timezone)
        local = (svc.clock.now() + timedelta(minutes=minutes_ahead)).astimezone(tz)
        await schedule.schedule_sessions(
            svc,
            admin,
            world.group_id,
            first_day=local.date(),
            start=local.time().replace(second=0, microsecond=0),
            minutes=60,
            topic="Sleep and the night feeds",
        )
    finally:
        await svc.db.aclose()


@pytest.mark.browser
def test_facilitator_starts_session_and_sees_member_on_roster(browser, live_world) -> None:  # type: ignore[no-untyped-def]
    """Rosa sees a countdown, starts the session, and Amara appears on her roster."""
    base, world = live_world
    in_thread(asyncio.run, _schedule_soon(world, 10))
    rosa_ctx, amara_ctx = browser.new_context(), browser.new_context()
    try:
        rosa, amara = rosa_ctx.new_page(), amara_ctx.new_page()
        sign_in(rosa, base, "facilitator@t.test", PASSWORD)
        rosa.goto(f"{base}/rooms/{world.room_id}")
        expect(rosa.locator("#status")).to_have_text("Connected")
        expect(rosa.locator("#session-state")).to_contain_text("Next session:")
        expect(rosa.locator("#session-countdown")).to_contain_text("Starts in")
        rosa.click("#start-session")
        expect(rosa.locator("#session-state")).to_have_text(
            "Session live: Sleep and the night feeds"
        )
        expect(rosa.locator("#roster-present")).to_contain_text("Rosa")
        expect(rosa.locator("#roster-present")).not_to_contain_text("Amara")

        sign_in(amara, base, "amara@t.test", PASSWORD)
        amara.goto(f"{base}/rooms/{world.room_id}")
        expect(amara.locator("#status")).to_have_text("Connected")
        expect(amara.locator("#session-state")).to_contain_text("Session live")
        expect(amara.locator("#roster-panel")).to_be_hidden()  # the roster is for staff

        expect(rosa.locator("#roster-present")).to_contain_text("Amara")
        amara.close()
        expect(rosa.locator("#roster-been")).to_contain_text("Amara")
        expect(rosa.locator("#roster-present")).not_to_contain_text("Amara")
    finally:
        rosa_ctx.close()
        amara_ctx.close()
