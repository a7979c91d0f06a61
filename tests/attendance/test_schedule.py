"""Scheduling in the group's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from app import schedule
from app.errors import InvalidInput, NotFound
from tests.attendance.conftest import Env


async def test_weekly_recurrence_keeps_local_time_across_spring_forward(env: Env) -> None:
    """A Tuesday 19:00 New York group stays at 19:00 local when DST starts on 8 March."""
    rows = await env.schedule(weeks=3, first_day=date(2026, 3, 3))
    assert [r.scheduled_start for r in rows] == [
        datetime(2026, 3, 4, 0, 0, tzinfo=UTC),  # EST, UTC-5
        datetime(2026, 3, 10, 23, 0, tzinfo=UTC),  # EDT, UTC-4: one hour earlier in UTC
        datetime(2026, 3, 17, 23, 0, tzinfo=UTC),
    ]
    ny = ZoneInfo("America/New_York")
    assert {r.scheduled_start.astimezone(ny).strftime("%a %H:%M") for r in rows} == {"Tue 19:00"}
    assert len({r.series for r in rows}) == 1 and rows[0].series
    assert all((r.scheduled_end - r.scheduled_start).total_seconds() == 3600 for r in rows)


async def test_weekly_recurrence_across_fall_back_in_group_zone(env: Env) -> None:
    """A Berlin group at 10:00 moves from 08:00 to 09:00 UTC when summer time ends."""
    await schedule.update_group_settings(
        env.svc,
        env.users["admin"],
        env.world.group_id,
        timezone="Europe/Berlin",
        room_open_policy="always",
    )
    env.clock.advance(days=200)
    rows = await env.schedule(weeks=2, first_day=date(2026, 10, 20), start=time(10, 0))
    assert [r.scheduled_start.hour for r in rows] == [8, 9]
    assert schedule.local_text(rows[1].scheduled_start, "Europe/Berlin") == (
        "Tue 27 Oct 2026, 10:00 CET"
    )


async def test_members_see_upcoming_sessions_but_cannot_schedule(env: Env) -> None:
    """Amara sees what is coming; scheduling is for facilitators and admins."""
    await env.schedule(weeks=2, topic="Sleep")
    lines = await schedule.upcoming_lines(env.svc, env.users["amara"], env.world.group_id)
    assert [local for _, local in lines] == [
        "Tue 3 Mar 2026, 19:00 EST",
        "Tue 10 Mar 2026, 19:00 EDT",
    ]
    with pytest.raises(NotFound):
        await schedule.schedule_sessions(
            env.svc,
            env.users["amara"],
            env.world.group_id,
            first_day=date(2026, 3, 5),
            start=time(19, 0),
            minutes=60,
        )
    with pytest.raises(NotFound):
        await schedule.upcoming(env.svc, env.users["outsider"], env.world.group_id)


async def test_bad_schedule_input_gets_a_clear_error(env: Env) -> None:
    """A session in the past or of an impossible length is refused with a reason."""
    with pytest.raises(InvalidInput, match=r"That time has already passed\."):
        await env.schedule(first_day=date(2026, 3, 1))
    with pytest.raises(InvalidInput, match=r"A session lasts 15 to 240 minutes\."):
        await env.schedule(minutes=600)
    with pytest.raises(InvalidInput, match="Unknown time zone 'Mars/Olympus'"):
        await schedule.update_group_settings(
            env.svc,
            env.users["admin"],
            env.world.group_id,
            timezone="Mars/Olympus",
            room_open_policy="always",
        )
