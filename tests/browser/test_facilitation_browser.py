"""Facilitator tools in the browser: report, flags panel, hide, lock, as each person sees them."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Browser, expect

from tests.conftest import World


def _room(browser: Browser, base: str, world: World, who: str, answers: list[str]) -> Any:
    """A signed-in page in the room that answers prompts from `answers` in turn."""
    ctx = browser.new_context()
    ctx.add_cookies([{"name": "village_session", "value": world.people[who].token, "url": base}])
    page = ctx.new_page()
    page.on("dialog", lambda d: d.accept(answers.pop(0) if answers else ""))
    page.goto(f"{base}/rooms/{world.room_id}")
    expect(page.locator("#status")).to_have_text("Connected")
    return page


def test_report_hide_and_lock_in_the_browser(
    browser: Browser, live_world: tuple[str, World]
) -> None:
    """Bea reports Amara's message; Rosa sees it in her flags panel, hides the message (Amara
    sees the placeholder, never who reported) and locks the room (Amara sees the banner and
    keeps her unsent text)."""
    base, world = live_world
    amara = _room(browser, base, world, "amara", [])
    bea = _room(browser, base, world, "bea", ["Feels unkind"])
    rosa = _room(browser, base, world, "facilitator", ["Unkind wording", "Break"])
    try:
        amara.fill("#body", "you are all hopeless")
        amara.press("#body", "Enter")
        msg = "li.message:has-text('you are all hopeless')"
        bea.locator(msg).get_by_role("button", name="Report").click()
        expect(rosa.locator("#fac-flags")).to_contain_text("Reported by Bea: Feels unkind")
        rosa.locator(msg).get_by_role("button", name="Hide").click()
        expect(amara.locator("li.message.hidden .body")).to_have_text(
            "This message was hidden by a facilitator."
        )
        expect(rosa.locator("li.message.hidden .body")).to_have_text("you are all hopeless")
        assert "Bea" not in amara.inner_text("#messages")
        rosa.click("#fac-lock")
        expect(amara.locator("#room-banner")).to_contain_text("paused this room")
        expect(rosa.locator("#fac-lock")).to_have_text("Unlock room")
        amara.fill("#body", "hello?")
        amara.press("#body", "Enter")
        expect(amara.locator("#composer-error")).to_contain_text("paused this room")
        expect(amara.locator("#body")).to_have_value("hello?")  # the refused text comes back
    finally:
        for page in (amara, bea, rosa):
            page.context.close()
