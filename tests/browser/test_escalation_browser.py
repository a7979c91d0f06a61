"""Browser test (Chromium): a member raises an escalation in one browser context, a clinician
acknowledges it in another. Run in its own process: pytest -m browser."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import World
from tests.escalations.conftest import pick

pytestmark = pytest.mark.browser


def test_clinician_acknowledges_an_escalation_raised_by_a_member(
    browser: Any, live_world: tuple[str, World]
) -> None:
    """Amara writes a high-risk message; she sees crisis resources; Dr Ade's open triage
    queue shows it live, he opens it and acknowledges it."""
    from playwright.sync_api import expect

    base, world = live_world
    host = base.split("//")[1].split(":")[0]
    text = pick("high")
    member = browser.new_context(base_url=base)
    clinician = browser.new_context(base_url=base)
    try:
        for ctx, person in ((member, world.amara), (clinician, world.clinician)):
            ctx.add_cookies(
                [
                    {
                        "name": "village_session",
                        "value": person.token,
                        "domain": host,
                        "path": "/",
                    }
                ]
            )
        dr = clinician.new_page()
        dr.goto("/clinician")
        expect(dr.locator("#triage-status")).to_have_text("Live")
        expect(dr.locator("#triage li")).to_have_count(0)

        amara = member.new_page()
        amara.goto(f"/rooms/{world.room_id}")
        expect(amara.locator("#status")).to_have_text("Connected")
        amara.fill("#body", text)
        amara.keyboard.press("Enter")
        care = amara.locator(".care-card")
        expect(care).to_contain_text("988")
        expect(care).to_contain_text("care team")

        item = dr.locator("#triage li")
        expect(item).to_have_count(1)
        expect(item).to_contain_text("high: Amara")
        expect(item).to_contain_text("open")
        assert text not in dr.content()
        item.locator("a").click()
        expect(dr.locator("#escalated-message mark")).not_to_have_count(0)
        expect(dr.locator("#esc-state")).to_have_text("open")
        dr.click("#acknowledge")
        expect(dr.locator("#esc-state")).to_have_text("acknowledged")
        expect(dr.locator(".timeline")).to_contain_text("Acknowledged by Dr Ade")
    finally:
        member.close()
        clinician.close()


def test_held_message_reaches_the_group_only_when_a_facilitator_releases_it(
    browser: Any, live_world: tuple[str, World]
) -> None:
    """Amara's imminent-risk message is held: she and the facilitator see it marked, Bea does
    not, until the facilitator presses "Release to the group"."""
    from playwright.sync_api import expect

    base, world = live_world
    host = base.split("//")[1].split(":")[0]
    text = pick("imminent")
    contexts = {}
    try:
        pages = {}
        for key in ("amara", "bea", "facilitator"):
            ctx = contexts[key] = browser.new_context(base_url=base)
            ctx.add_cookies(
                [
                    {
                        "name": "village_session",
                        "value": world.people[key].token,
                        "domain": host,
                        "path": "/",
                    }
                ]
            )
            page = pages[key] = ctx.new_page()
            page.goto(f"/rooms/{world.room_id}")
            expect(page.locator("#status")).to_have_text("Connected")
        amara, bea, fac = pages["amara"], pages["bea"], pages["facilitator"]
        amara.fill("#body", text)
        amara.keyboard.press("Enter")
        expect(amara.locator("li.message.held")).to_contain_text("Only you and the care team")
        expect(amara.locator(".care-card")).to_contain_text("911")
        held = fac.locator("li.message.held")
        expect(held).to_contain_text(text)
        amara.fill("#body", "sorry, ignore me")
        amara.keyboard.press("Enter")
        expect(bea.locator("li.message")).to_contain_text(["sorry, ignore me"])
        expect(bea.locator("#messages")).not_to_contain_text(text)

        held.locator("button.release").click()
        expect(bea.locator("#messages")).to_contain_text(text)
        expect(bea.locator("li.message").first).to_contain_text(text)  # in its place, by seq
        expect(fac.locator("li.message.held")).to_have_count(0)
    finally:
        for ctx in contexts.values():
            ctx.close()
