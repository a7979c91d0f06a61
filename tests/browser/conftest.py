"""Browser tests: Debian's Chromium driven by Playwright, in their own pytest process.

Run with `pytest -m browser` (make test does). Playwright's sync API keeps an event loop
running, which would break the async tests if they shared a process (STACK-NOTES trap 6).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import World, build_world, in_thread, make_settings
from tests.live import free_port, serve

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: run `make chromium` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def live_world(tmp_path: Path, sqlite_template: Path) -> Iterator[tuple[str, World]]:
    import shutil

    db = tmp_path / "village.db"
    shutil.copy(sqlite_template, db)
    url = f"sqlite+aiosqlite:///{db}"
    port = free_port()
    settings = make_settings(url, public_url=f"http://127.0.0.1:{port}")
    world = in_thread(asyncio.run, build_world(settings))
    with serve({"VILLAGE_DATABASE_URL": url}, port=port) as base:
        yield base, world


def sign_in(page: object, base: str, email: str, password: str) -> None:
    page.goto(base + "/login")  # type: ignore[attr-defined]
    page.fill("#email", email)  # type: ignore[attr-defined]
    page.fill("#password", password)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(base + "/groups")  # type: ignore[attr-defined]


@pytest.fixture
def two_members(browser, live_world):  # type: ignore[no-untyped-def]
    """Amara and Bea signed in, each in her own browser context (own cookies)."""
    base, _ = live_world
    contexts = [browser.new_context(), browser.new_context()]  # type: ignore[attr-defined]
    pages = [c.new_page() for c in contexts]
    from tests.conftest import PASSWORD

    sign_in(pages[0], base, "amara@t.test", PASSWORD)
    sign_in(pages[1], base, "bea@t.test", PASSWORD)
    yield contexts, pages
    for c in contexts:
        c.close()
