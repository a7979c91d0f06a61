"""A room client with an injected clock, and helpers to call the facilitator API."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.clock import FakeClock
from app.settings import Settings
from tests.conftest import ORIGIN, World, make_settings

CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def settings(db_url: str) -> Settings:
    # The per-member rate limit is not under test here; slow mode and mutes are.
    return make_settings(db_url, messages_per_window=1000)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def client(world: World, clock: FakeClock) -> Iterator[TestClient]:
    from app.factory import create_app

    with TestClient(create_app(world.settings, clock=clock), base_url=ORIGIN) as c:
        yield c


def csrf_of(client: TestClient, world: World, who: str) -> str:
    page = client.get("/groups", headers={"cookie": world.people[who].cookie})
    found = CSRF_RE.search(page.text)
    assert found, page.text[:300]
    return found.group(1)


def post(
    client: TestClient, world: World, who: str, path: str, body: dict[str, Any] | None = None
) -> Any:
    headers = {"cookie": world.people[who].cookie, "x-csrf-token": csrf_of(client, world, who)}
    return client.post(f"/api/rooms/{world.room_id}{path}", json=body or {}, headers=headers)


def get(client: TestClient, world: World, who: str, path: str) -> Any:
    return client.get(
        f"/api/rooms/{world.room_id}{path}", headers={"cookie": world.people[who].cookie}
    )


def audit_rows(world: World, action: str | None = None) -> list[Any]:
    async def read() -> list[Any]:
        from sqlmodel import select

        from app.storage.database import Database
        from app.storage.tables import AuditEntry

        db = Database(world.settings.database_url)
        try:
            async with db.transaction() as s:
                q = select(AuditEntry).order_by(AuditEntry.id)  # type: ignore[arg-type]
                if action:
                    q = q.where(AuditEntry.action == action)
                return list((await s.exec(q)).all())
        finally:
            await db.aclose()

    return asyncio.run(read())


def query(world: World, statement: str) -> list[tuple[Any, ...]]:
    """Plain SQL against the test database, from outside the app (reads, or test setup)."""

    async def read() -> list[tuple[Any, ...]]:
        from sqlalchemy import text

        from app.storage.database import Database

        db = Database(world.settings.database_url)
        try:
            async with db.transaction() as s:
                result = await s.exec(text(statement))  # type: ignore[call-overload]
                return [tuple(r) for r in result.all()] if result.returns_rows else []
        finally:
            await db.aclose()

    return asyncio.run(read())


def entered(ws: Any) -> list[dict[str, Any]]:
    """Frames up to caught_up, then the room_state greeting that follows it."""
    from tests.web.test_room_socket import joined, recv_until

    frames = joined(ws)
    frames.append(recv_until(ws, "room_state"))
    return frames
