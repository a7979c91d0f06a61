"""Sessions in the room over real WebSockets: the read-only fallback and the live roster."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import date, time, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from app import schedule
from app.clock import FakeClock
from app.factory import create_app
from app.services import offline_services
from app.storage import accounts as account_store
from tests.attendance.conftest import SESSION_START_UTC
from tests.conftest import ORIGIN, World
from tests.web.test_room_socket import joined, recv_until, send


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(SESSION_START_UTC - timedelta(hours=2))


@pytest.fixture
def app_client(world: World, clock: FakeClock) -> Iterator[TestClient]:
    with TestClient(create_app(world.settings, clock=clock), base_url=ORIGIN) as c:
        yield c


def _setup(world: World, clock: FakeClock, policy: str) -> int:
    """Sets the room policy and schedules Tuesday 19:00 EST; returns the session id."""

    async def run() -> int:
        svc = offline_services(world.settings)
        svc.clock = clock
        try:
            async with svc.db.transaction() as s:
                admin = await account_store.user_by_id(s, world.admin.id)
            assert admin is not None
            await schedule.update_group_settings(
                svc,
                admin,
                world.group_id,
                timezone="America/New_York",
                room_open_policy=policy,
            )
            rows = await schedule.schedule_sessions(
                svc,
                admin,
                world.group_id,
                first_day=date(2026, 3, 3),
                start=time(19, 0),
                minutes=60,
                topic="Sleep",
            )
            return rows[0].id  # type: ignore[return-value]
        finally:
            await svc.db.aclose()

    return asyncio.run(run())


def _csrf(client: TestClient, world: World, who: str) -> str:
    page = client.get(f"/groups/{world.group_id}", headers={"cookie": world.people[who].cookie})
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text[:300]
    return found.group(1)


def _post(client: TestClient, world: World, who: str, path: str, **form: str) -> Any:
    return client.post(
        path,
        data={"csrf": _csrf(client, world, who), **form},
        headers={"cookie": world.people[who].cookie},
        follow_redirects=False,
    )


def _ws(client: TestClient, world: World, who: str) -> Any:
    return client.websocket_connect(
        f"/ws/rooms/{world.room_id}", headers=world.people[who].ws_headers()
    )


def test_room_is_read_only_between_sessions(
    app_client: TestClient, world: World, clock: FakeClock
) -> None:
    """Amara cannot write before the session; she sees when it is and where to get help."""
    sid = _setup(world, clock, "live_only")
    with _ws(app_client, world, "amara") as a:
        joined(a)
        send(a, "is anyone here?", "c1")
        err = recv_until(a, "error")
        assert err["code"] == "room_closed" and err["client_id"] == "c1"
        assert err["message"] == (
            "The room is read-only between sessions. The next session is "
            "Tue 3 Mar 2026, 19:00 EST. " + world.settings.closed_room_crisis_text
        )
        assert "988" in err["message"]
        panel = app_client.get(
            f"/api/rooms/{world.room_id}/session", headers={"cookie": world.amara.cookie}
        ).json()
        assert panel["closed"] is True and panel["session"]["local"] == (
            "Tue 3 Mar 2026, 19:00 EST"
        )
        # A facilitator in the room opens it.
        with _ws(app_client, world, "facilitator") as f:
            joined(f)
            send(a, "hello Rosa", "c2")
            assert recv_until(a, "ack")["client_id"] == "c2"
        recv_until(a, "presence")
        send(a, "still there?", "c3")
        assert recv_until(a, "error")["code"] == "room_closed"
        # A live session opens it too (the facilitator starts it, then leaves the room).
        clock._now = SESSION_START_UTC
        assert (
            _post(app_client, world, "facilitator", f"/group-sessions/{sid}/start").status_code
            == 303
        )
        recv_until(a, "session")
        send(a, "hi all", "c4")
        assert recv_until(a, "ack")["client_id"] == "c4"


def test_a_risk_message_is_never_refused_by_a_closed_room(
    app_client: TestClient, world: World, clock: FakeClock
) -> None:
    """At 3 a.m. in a closed room, words of risk still go through to the care team."""
    _setup(world, clock, "live_only")
    with _ws(app_client, world, "amara") as a:
        joined(a)
        send(a, "i have the pills counted out", "r1")
        ack = recv_until(a, "ack")
        assert ack["client_id"] == "r1"
        mine = recv_until(a, "message")
        assert mine["client_id"] == "r1" and mine["status"] == "held"
        send(a, "good night everyone", "r2")
        assert recv_until(a, "error")["code"] == "room_closed"


def test_room_always_open_by_default(app_client: TestClient, world: World) -> None:
    """Without the live-only setting, members can write at any time."""
    with _ws(app_client, world, "bea") as b:
        joined(b)
        send(b, "morning", "b1")
        assert recv_until(b, "ack")["client_id"] == "b1"


def test_facilitator_sees_member_appear_on_roster(
    app_client: TestClient, world: World, clock: FakeClock
) -> None:
    """Rosa starts the session from the room; Amara joins and appears on Rosa's roster only."""
    sid = _setup(world, clock, "always")
    clock._now = SESSION_START_UTC - timedelta(minutes=5)
    with _ws(app_client, world, "facilitator") as f:
        joined(f)
        assert (
            _post(app_client, world, "facilitator", f"/group-sessions/{sid}/start").status_code
            == 303
        )
        assert recv_until(f, "session")["state"] == "live"
        clock.advance(minutes=10)
        with _ws(app_client, world, "amara") as a:
            joined(a)
            while True:
                roster = recv_until(f, "roster")
                if any(p["name"] == "Amara" for p in roster["present"]):
                    break
            assert [p["name"] for p in roster["present"]] == ["Amara", "Rosa"]
            clock.advance(minutes=3)
            a.send_json({"type": "ping", "nonce": 1})
            frames = []
            while (frame := a.receive_json())["type"] != "pong":
                frames.append(frame["type"])
            assert "roster" not in frames
        roster = recv_until(f, "roster")
        assert [(p["name"], p["minutes"]) for p in roster["been"]] == [("Amara", 3)]
        assert [p["name"] for p in roster["present"]] == ["Rosa"]
        clock.advance(minutes=50)
        resp = _post(app_client, world, "facilitator", f"/group-sessions/{sid}/end")
        assert resp.status_code == 303 and resp.headers["location"] == f"/group-sessions/{sid}"
    page = app_client.get(f"/group-sessions/{sid}", headers={"cookie": world.facilitator.cookie})
    assert "Amara" in page.text and "Save and sign" in page.text


def test_session_pages_are_only_for_the_group(
    app_client: TestClient, world: World, clock: FakeClock
) -> None:
    """Members see upcoming sessions and their own history; reports and billing are staff's."""
    _setup(world, clock, "always")
    amara = {"cookie": world.amara.cookie}
    rosa = {"cookie": world.facilitator.cookie}
    group = app_client.get(f"/groups/{world.group_id}", headers=amara)
    assert "Tue 3 Mar 2026, 19:00 EST" in group.text
    sessions = app_client.get(f"/groups/{world.group_id}/sessions", headers=amara)
    assert sessions.status_code == 200 and "Schedule a session" not in sessions.text
    assert (
        "Schedule a session"
        in app_client.get(f"/groups/{world.group_id}/sessions", headers=rosa).text
    )
    for path in ("report", "billing.csv", f"attendance/{world.bea.id}"):
        assert app_client.get(f"/groups/{world.group_id}/{path}", headers=amara).status_code == 404
    assert (
        app_client.get(
            f"/groups/{world.group_id}/attendance/{world.amara.id}", headers=amara
        ).status_code
        == 200
    )
    outsider = {"cookie": world.outsider.cookie}
    assert app_client.get(f"/groups/{world.group_id}/sessions", headers=outsider).status_code == 404
    csv = app_client.get(f"/groups/{world.group_id}/billing.csv", headers=rosa)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text.startswith("date,start,end,member_id,member,minutes,units,code")
    report = app_client.get(f"/groups/{world.group_id}/report", headers=rosa)
    assert report.status_code == 200 and "Sessions held" in report.text


def test_report_session_and_history_pages_show_a_held_session(
    app_client: TestClient, world: World
) -> None:
    """After a session: the report has its chart, the signed note shows its signature and a
    late edit is refused with the reason, and Bea's history shows her missed session."""
    from app import group_sessions, session_notes
    from tests.attendance.conftest import make_env

    async def held() -> int:
        env = await make_env(world)
        try:
            (gs,) = await env.schedule(minutes=60, topic="Sleep")
            env.clock._now = SESSION_START_UTC
            sid: int = gs.id  # type: ignore[assignment]
            await group_sessions.start_session(env.svc, env.users["cps"], sid)
            amara = await env.join("amara")
            env.clock.advance(minutes=60)
            await group_sessions.end_session(env.svc, env.users["cps"], sid)
            await env.leave(amara)
            await session_notes.save_note(
                env.svc, env.users["cps"], sid, topic="Sleep", narrative="n", response="r", plan="p"
            )
            await session_notes.sign_note(env.svc, env.users["cps"], sid)
            return sid
        finally:
            await env.svc.db.aclose()

    sid = asyncio.run(held())
    rosa = {"cookie": world.facilitator.cookie}
    report = app_client.get(f"/groups/{world.group_id}/report", headers=rosa)
    assert "<svg" in report.text and 'aria-label="Members present per session"' in report.text
    assert '<strong id="held">1</strong>' in report.text
    assert '<strong id="rate">50%</strong>' in report.text
    detail = app_client.get(f"/group-sessions/{sid}", headers=rosa)
    assert "Signed by Cora, CPS, Tue 3 Mar 2026, 20:00 EST" in detail.text
    assert "Save and sign" not in detail.text
    edit = _post(app_client, world, "facilitator", f"/group-sessions/{sid}/note", narrative="x")
    assert edit.status_code == 409
    assert "This note is signed and can no longer be edited." in edit.text
    bea = app_client.get(
        f"/groups/{world.group_id}/attendance/{world.bea.id}", headers={"cookie": world.bea.cookie}
    )
    assert "missed" in bea.text and "Sleep" in bea.text
    csv = app_client.get(f"/groups/{world.group_id}/billing.csv", headers=rosa).text
    assert csv.splitlines()[1].startswith("2026-03-03,19:00,20:00,")
    assert ",Amara,60,4,H0038,HQ,1,Cora,CPS,telehealth – text,attended,yes,no" in csv
