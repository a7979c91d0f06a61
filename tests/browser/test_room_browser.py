"""Two members in two browser contexts chat; markup in a message stays text."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD, World

XSS = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'


def test_two_members_chat_and_markup_shows_as_text(
    browser: Browser, live_world: tuple[str, World]
) -> None:
    """Amara's messages reach Bea live; an XSS payload renders as text and runs nothing."""
    base, _ = live_world
    amara_ctx, bea_ctx = browser.new_context(), browser.new_context()
    amara, bea = amara_ctx.new_page(), bea_ctx.new_page()
    try:
        sign_in(amara, base, "amara@t.test", PASSWORD)
        sign_in(bea, base, "bea@t.test", PASSWORD)
        for page in (amara, bea):
            page.click("text=Enter the room")
            expect(page.locator("#status")).to_have_text("Connected")
        expect(bea.locator("#presence")).to_contain_text("Amara")

        amara.fill("#body", "Good evening everyone")
        amara.click("#send")
        expect(bea.locator("#messages li").last).to_contain_text("Good evening everyone")
        expect(bea.locator("#messages li").last.locator(".who")).to_have_text("Amara")

        amara.fill("#body", XSS)
        amara.click("#send")
        last = bea.locator("#messages li").last.locator(".body")
        expect(last).to_have_text(XSS)
        assert bea.locator("#messages img").count() == 0
        assert bea.evaluate("window.__pwned") is None
        assert amara.evaluate("window.__pwned") is None
        assert bea.locator("#messages").get_attribute("role") == "log"
    finally:
        amara_ctx.close()
        bea_ctx.close()


def test_room_reconnects_and_shows_missed_messages(
    browser: Browser, live_world: tuple[str, World]
) -> None:
    """Bea's page says when the connection drops, reconnects, and shows what she missed once."""
    base, world = live_world
    amara_ctx, bea_ctx = browser.new_context(), browser.new_context()
    amara, bea = amara_ctx.new_page(), bea_ctx.new_page()
    try:
        sign_in(amara, base, "amara@t.test", PASSWORD)
        sign_in(bea, base, "bea@t.test", PASSWORD)
        for page in (amara, bea):
            page.goto(f"{base}/rooms/{world.room_id}")
            expect(page.locator("#status")).to_have_text("Connected")
        amara.fill("#body", "before the drop")
        amara.click("#send")
        expect(bea.locator("#messages li", has_text="before the drop")).to_have_count(1)
        bea_ctx.set_offline(True)
        bea.evaluate("window.dispatchEvent(new Event('offline'))")
        expect(bea.locator("#status")).to_contain_text("Connection lost")
        amara.fill("#body", "while you were away")
        amara.click("#send")
        expect(amara.locator("#messages li").last).to_have_class("message visible")
        bea_ctx.set_offline(False)
        bea.evaluate("window.dispatchEvent(new Event('online'))")
        expect(bea.locator("#status")).to_have_text("Connected")
        expect(bea.locator("#messages li", has_text="while you were away")).to_have_count(1)
        expect(bea.locator("#messages li", has_text="before the drop")).to_have_count(1)
    finally:
        amara_ctx.close()
        bea_ctx.close()
