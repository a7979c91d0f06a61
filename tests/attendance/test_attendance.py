"""Attendance from real connections: reconnects, overlapping tabs, the session's end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app import attendance, attendance_reports, group_sessions
from app.errors import InvalidInput, NotFound
from app.storage import audit
from app.storage import group_sessions as store
from app.storage.tables import ConnectionInterval
from tests.attendance.conftest import SESSION_START_UTC, Env


async def _start(env: Env) -> int:
    (gs,) = await env.schedule(minutes=60)
    env.clock._now = SESSION_START_UTC
    await group_sessions.start_session(env.svc, env.users["cps"], gs.id)  # type: ignore[arg-type]
    return gs.id  # type: ignore[return-value]


async def _records(env: Env, session_id: int) -> dict[str, tuple[int, str]]:
    async with env.svc.db.transaction() as s:
        rows = await store.records_of_session(s, session_id)
    return {u.display_name: (r.minutes, r.status) for r, u in rows}


async def test_reconnects_and_two_tabs_count_once(env: Env) -> None:
    """Amara drops out twice and has two tabs open at once: 50 minutes, attended, one row."""
    sid = await _start(env)
    a1 = await env.join("amara")
    env.clock.advance(minutes=10)
    await env.leave(a1)  # connection dropped
    env.clock.advance(minutes=2)
    a2 = await env.join("amara")  # back
    env.clock.advance(minutes=5)
    a3 = await env.join("amara")  # a second tab, overlapping
    env.clock.advance(minutes=20)
    await env.leave(a2)
    env.clock.advance(minutes=13)
    await env.leave(a3)  # left at +50
    env.clock.advance(minutes=10)
    await group_sessions.end_session(env.svc, env.users["cps"], sid)
    records = await _records(env, sid)
    assert records["Amara"] == (48, "attended")  # 10 + (50 - 12) = 48 of 60 minutes
    assert records["Bea"] == (0, "missed")


async def test_member_present_across_session_end_counts_to_the_end(env: Env) -> None:
    """Bea joins 5 minutes late and is still there when it ends: 55 minutes, up to the end."""
    sid = await _start(env)
    env.clock.advance(minutes=5)
    bea = await env.join("bea")
    env.clock.advance(minutes=30)
    amara = await env.join("amara")
    env.clock.advance(minutes=25)
    ended = await group_sessions.end_session(env.svc, env.users["cps"], sid)
    env.clock.advance(minutes=10)
    await env.leave(bea)
    await env.leave(amara)
    records = await _records(env, sid)
    assert records["Bea"] == (55, "attended")
    assert records["Amara"] == (25, "partial")
    async with env.svc.db.transaction() as s:
        rec = await store.record(s, sid, env.users["bea"].id)  # type: ignore[arg-type]
    assert rec is not None and rec.last_left_at == ended.ended_at


async def test_joining_before_the_start_counts_from_the_start(env: Env) -> None:
    """Waiting in the room early does not inflate minutes past the session's length."""
    (gs,) = await env.schedule(minutes=60)
    env.clock._now = SESSION_START_UTC - timedelta(minutes=15)
    bea = await env.join("bea")
    env.clock._now = SESSION_START_UTC
    await group_sessions.start_session(env.svc, env.users["cps"], gs.id)  # type: ignore[arg-type]
    env.clock.advance(minutes=60)
    await env.leave(bea)
    await group_sessions.end_session(env.svc, env.users["cps"], gs.id)  # type: ignore[arg-type]
    assert (await _records(env, gs.id))["Bea"] == (60, "attended")  # type: ignore[arg-type]


def test_interval_of_a_dead_worker_ends_at_its_last_heartbeat() -> None:
    """A socket whose worker stopped beating counts until its last beat, not the session end."""
    t0 = datetime(2026, 3, 4, 0, 0, tzinfo=UTC)

    def iv(user: int, joined: int, seen: int, left: int | None = None) -> ConnectionInterval:
        return ConnectionInterval(
            room_id=1,
            group_id=1,
            user_id=user,
            role="member",
            worker="w",
            joined_at=t0 + timedelta(minutes=joined),
            last_seen_at=t0 + timedelta(minutes=seen),
            left_at=None if left is None else t0 + timedelta(minutes=left),
        )

    end = t0 + timedelta(minutes=60)
    found = attendance.presences([iv(1, 0, 20), iv(2, 0, 59), iv(3, 10, 10, left=30)], t0, end, end)
    assert found[1].minutes == 20 and not found[1].here_now  # worker died after 20 min
    assert found[2].minutes == 60 and found[2].here_now  # beat a minute ago: still here
    assert found[3].minutes == 20


def test_union_counts_overlaps_once() -> None:
    """Overlapping and touching spans are merged, then clipped to the session."""
    t = datetime(2026, 1, 1, tzinfo=UTC)

    def m(n: int) -> datetime:
        return t + timedelta(minutes=n)

    spans = [(m(-5), m(10)), (m(5), m(20)), (m(20), m(25)), (m(40), m(90))]
    assert attendance.union_seconds(spans, m(0), m(60)) == (25 + 20) * 60


async def test_live_roster_shows_present_now_and_has_been(env: Env) -> None:
    """During the session the facilitator sees who is here and who has left."""
    sid = await _start(env)
    amara = await env.join("amara")
    bea = await env.join("bea")
    env.clock.advance(minutes=7)
    await env.leave(bea)
    async with env.svc.db.transaction() as s:
        gs = await store.session_by_id(s, sid)
    lines = await attendance.roster(env.svc, gs, env.world.room_id)  # type: ignore[arg-type]
    assert [(r.name, r.here_now, r.minutes) for r in lines] == [
        ("Amara", True, 7),
        ("Bea", False, 7),
    ]
    await env.leave(amara)


async def test_only_facilitators_start_and_end_sessions(env: Env) -> None:
    """A member or clinician cannot start a session; one cannot start more than an hour early."""
    (gs,) = await env.schedule()
    env.clock._now = SESSION_START_UTC - timedelta(minutes=90)
    for who in ("amara", "clinician", "outsider"):
        with pytest.raises(NotFound):
            await group_sessions.start_session(env.svc, env.users[who], gs.id)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="at most 60 minutes early"):
        await group_sessions.start_session(env.svc, env.users["cps"], gs.id)  # type: ignore[arg-type]


async def test_excused_absence_and_retention_nudge(env: Env) -> None:
    """Missing two sessions in a row puts a member on the nudge list; excused ones do not."""
    sessions = await env.schedule(weeks=2)
    for gs in sessions:
        env.clock._now = gs.scheduled_start
        await group_sessions.start_session(env.svc, env.users["cps"], gs.id)  # type: ignore[arg-type]
        amara = await env.join("amara")
        env.clock.advance(minutes=60)
        await env.leave(amara)
        await group_sessions.end_session(env.svc, env.users["cps"], gs.id)  # type: ignore[arg-type]
    report = await attendance_reports.group_report(env.svc, env.users["cps"], env.world.group_id)
    assert report.held == 2 and [n for _, n in report.nudges] == ["Bea"]
    assert report.attendance_rate == 0.5 and report.average_size == 1.0
    await attendance_reports.excuse_absence(
        env.svc,
        env.users["cps"],
        sessions[1].id,
        env.users["bea"].id,
        "baby unwell",  # type: ignore[arg-type]
    )
    report = await attendance_reports.group_report(env.svc, env.users["cps"], env.world.group_id)
    assert report.nudges == [] and report.attendance_rate == 2 / 3
    with pytest.raises(InvalidInput, match=r"Only a missed session can be excused\."):
        await attendance_reports.excuse_absence(
            env.svc,
            env.users["cps"],
            sessions[1].id,
            env.users["amara"].id,
            "",  # type: ignore[arg-type]
        )
    _, mine = await attendance_reports.member_history(
        env.svc,
        env.users["bea"],
        env.world.group_id,
        env.users["bea"].id,  # type: ignore[arg-type]
    )
    assert [h.record.status for h in mine] == ["excused", "missed"]
    with pytest.raises(NotFound):
        await attendance_reports.member_history(
            env.svc,
            env.users["bea"],
            env.world.group_id,
            env.users["amara"].id,  # type: ignore[arg-type]
        )


async def test_forgotten_session_ends_itself_at_its_scheduled_end(env: Env) -> None:
    """Left live an hour past its end, a session is closed as of its scheduled end."""
    sid = await _start(env)
    amara = await env.join("amara")
    env.clock.advance(minutes=119)
    assert await group_sessions.end_overdue(env.svc) == []  # 59 minutes over: not yet
    env.clock.advance(minutes=2)
    assert await group_sessions.end_overdue(env.svc) == [sid]
    assert await group_sessions.end_overdue(env.svc) == []
    await env.leave(amara)
    async with env.svc.db.transaction() as s:
        gs = await store.session_by_id(s, sid)
        entries = await audit.entries(s, action="group_session.auto_end")
    assert gs is not None and gs.status == "ended"
    assert gs.ended_at == SESSION_START_UTC + timedelta(minutes=60) and gs.ended_by is None
    assert [(e.actor_id, e.target_id) for e in entries] == [(None, sid)]
    assert (await _records(env, sid))["Amara"] == (60, "attended")
