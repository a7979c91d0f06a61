"""The room UI in headless Chromium: report, hide, lock, as a member and a facilitator see it."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import World, build_world, make_settings

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
UI_TIMEOUT_MS = 10_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(sqlite_url: str) -> Iterator[tuple[str, World]]:
    """A real uvicorn server on a free port with the persona world in its database."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    world = asyncio.run(build_world(make_settings(sqlite_url, public_url=base)))
    env = {
        **os.environ,
        "VILLAGE_ENVIRONMENT": "test",
        "VILLAGE_DATABASE_URL": sqlite_url,
        "VILLAGE_PUBLIC_URL": base,
        "VILLAGE_BROKER_URL": "memory://",
        "VILLAGE_LOG_LEVEL": "warning",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise AssertionError("server did not start")
        yield base, world
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _page(browser: Any, base: str, world: World, who: str, answers: list[str]) -> Any:
    context = browser.new_context()
    context.add_cookies(
        [{"name": "village_session", "value": world.people[who].token, "url": base}]
    )
    page = context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)

    def on_dialog(dialog: Any) -> None:
        if dialog.type == "prompt":
            dialog.accept(answers.pop(0) if answers else "")
        else:
            dialog.accept()

    page.on("dialog", on_dialog)
    page.goto(f"{base}/rooms/{world.room_id}")
    page.wait_for_selector("#status:has-text('Connected')")
    return page


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (make chromium)")
def test_report_hide_and_lock_in_the_browser(served: tuple[str, World]) -> None:
    """Bea reports Amara's message, Rosa sees the report in her flags panel, hides the message
    (Amara sees the placeholder) and locks the room (Amara sees the banner)."""
    from playwright.sync_api import sync_playwright

    base, world = served
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            amara = _page(browser, base, world, "amara", [])
            bea = _page(browser, base, world, "bea", ["Feels unkind"])
            rosa = _page(browser, base, world, "facilitator", ["Unkind wording", "Break"])
            amara.fill("#body", "you are all hopeless")
            amara.press("#body", "Enter")
            bea.wait_for_selector("li.message:has-text('you are all hopeless')")
            bea.click("li.message:has-text('you are all hopeless') >> text=Report")
            rosa.wait_for_selector("#fac-flags li:has-text('Reported by Bea: Feels unkind')")
            assert "Bea" not in amara.inner_text("#messages")
            rosa.click("li.message:has-text('you are all hopeless') >> text=Hide")
            amara.wait_for_selector("li.message.hidden:has-text('hidden by a facilitator')")
            assert "you are all hopeless" not in amara.inner_text("#messages")
            rosa.wait_for_selector("li.message.hidden:has-text('you are all hopeless')")
            rosa.click("#fac-lock")
            amara.wait_for_selector("#room-banner:has-text('paused this room')")
            amara.fill("#body", "hello?")
            amara.press("#body", "Enter")
            amara.wait_for_selector("#composer-error:has-text('paused this room')")
            assert amara.input_value("#body") == "hello?"  # the refused text is given back
            rosa.wait_for_selector("#fac-lock:has-text('Unlock room')")
        finally:
            browser.close()
