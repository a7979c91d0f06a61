"""Two members in two browser contexts chat; markup in a message stays text."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.conftest import World

XSS = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'


def test_two_members_chat_and_markup_shows_as_text(two_members) -> None:  # type: ignore[no-untyped-def]
    """Amara's messages reach Bea live; an XSS payload renders as text and runs nothing."""
    _, (amara, bea) = two_members
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


def test_room_reconnects_and_shows_missed_messages(  # type: ignore[no-untyped-def]
    two_members, live_world: tuple[str, World]
) -> None:
    """Bea's page says when the connection drops, reconnects, and shows what she missed once."""
    base, world = live_world
    (_, bea_ctx), (amara, bea) = two_members
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
