"""Browser test (Chromium): a member raises an escalation in one browser context, a clinician
acknowledges it in another. Run in its own process: pytest -m browser."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import World, build_world, make_settings
from tests.escalations.conftest import free_port, pick

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


@pytest.fixture
def live(tmp_path: Path, sqlite_template: Path) -> Iterator[tuple[str, World]]:
    """uvicorn in a subprocess on a free port, on a seeded SQLite copy."""
    db = tmp_path / "village.db"
    shutil.copy(sqlite_template, db)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    url = f"sqlite+aiosqlite:///{db}"
    world = asyncio.run(build_world(make_settings(url, public_url=base)))
    env = {
        **os.environ,
        "VILLAGE_ENVIRONMENT": "test",
        "VILLAGE_DATABASE_URL": url,
        "VILLAGE_PUBLIC_URL": base,
        "VILLAGE_LOG_LEVEL": "warning",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", str(port)], cwd=ROOT, env=env
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the server did not start")
            time.sleep(0.2)
        yield base, world
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_clinician_acknowledges_an_escalation_raised_by_a_member(
    live: tuple[str, World],
) -> None:
    """Amara writes a high-risk message; she sees crisis resources; Dr Ade's open triage
    queue shows it live, he opens it and acknowledges it."""
    from playwright.sync_api import expect, sync_playwright

    base, world = live
    host = base.split("//")[1].split(":")[0]
    text = pick("high")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            member = browser.new_context(base_url=base)
            clinician = browser.new_context(base_url=base)
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
            browser.close()
