"""A database that goes away: clear errors, nothing lost, recovery without a restart."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from app.factory import create_app
from tests.conftest import ORIGIN, PG_ADMIN_DSN, World, _pg_exec, build_world, make_settings
from tests.web.test_room_socket import joined, recv_until, send


@pytest.fixture
def pg_world(pg_database: str) -> Iterator[tuple[World, str]]:
    from tests.conftest import _truncate_all

    asyncio.run(_truncate_all(pg_database))
    world = asyncio.run(build_world(make_settings(pg_database)))
    name = pg_database.rsplit("/", 1)[1]
    yield world, name
    asyncio.run(_pg_exec(PG_ADMIN_DSN, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))


def _cut(name: str) -> None:
    asyncio.run(
        _pg_exec(
            PG_ADMIN_DSN,
            f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false',
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'",
        )
    )


def _restore(name: str) -> None:
    asyncio.run(_pg_exec(PG_ADMIN_DSN, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))


def test_send_during_database_outage_errors_then_resend_succeeds(
    pg_world: tuple[World, str],
) -> None:
    """While PostgreSQL is unreachable a send gets a retryable error; the resend is stored once."""
    world, name = pg_world
    with TestClient(create_app(world.settings), base_url=ORIGIN) as client:
        with client.websocket_connect(
            f"/ws/rooms/{world.room_id}", headers=world.amara.ws_headers()
        ) as ws:
            joined(ws)
            _cut(name)
            send(ws, "are you there?", "outage-1")
            err = recv_until(ws, "error")
            assert err["code"] == "unavailable" and err["retryable"] is True
            assert err["client_id"] == "outage-1"
            assert "not sent" in err["message"]
            ready = client.get("/readyz")
            assert ready.status_code == 503 and ready.json()["database"] == "down"
            _restore(name)
            send(ws, "are you there?", "outage-1")
            ack = recv_until(ws, "ack")
            assert ack["seq"] == 1 and ack["duplicate"] is False
        assert client.get("/readyz").status_code == 200
        history = client.get(
            f"/api/rooms/{world.room_id}/messages", headers={"cookie": world.bea.cookie}
        ).json()["messages"]
        assert [m["body"] for m in history] == ["are you there?"]


def test_pages_say_the_database_is_unreachable(pg_world: tuple[World, str]) -> None:
    """A page request during an outage gets a 503 with a plain explanation, not a crash."""
    world, name = pg_world
    with TestClient(create_app(world.settings), base_url=ORIGIN) as client:
        _cut(name)
        try:
            r = client.get("/groups", headers={"cookie": world.amara.cookie})
        finally:
            _restore(name)
        assert r.status_code == 503
        assert "trouble reaching its database" in r.text
