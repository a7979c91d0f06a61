"""Scheduling group sessions: one-off or weekly, in the group's own time zone.

A weekly schedule is stored as its occurrences. Each is the same *local* wall-clock time on
its own date, converted to UTC separately, so a 19:00 group stays at 19:00 for its members
when daylight saving time starts or ends (its UTC time moves by an hour instead).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from app.errors import InvalidInput
from app.services import Services
from app.session_access import group_scope, managed_session, manager_scope
from app.storage import audit
from app.storage import group_sessions as store
from app.storage.tables import GroupSession, GroupSettings, User

MAX_WEEKS = 52
MIN_MINUTES, MAX_MINUTES = 15, 240
MAX_GROUP_SIZE = 50
ROOM_POLICIES = ("always", "live_only")


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"Unknown time zone {name[:64]!r}. Use a name like America/New_York.",
            code="invalid_timezone",
        ) from None


def local_to_utc(day: date, at: time, tz: ZoneInfo) -> datetime:
    """A local wall-clock time to UTC. A time skipped by a DST change (02:30 on the spring-
    forward night) resolves to the later offset, as zoneinfo's fold=0 does."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def weekly_starts(first_day: date, at: time, tz: ZoneInfo, weeks: int) -> list[datetime]:
    return [local_to_utc(first_day + timedelta(weeks=i), at, tz) for i in range(weeks)]


@dataclass(frozen=True)
class Effective:
    timezone: str
    room_open_policy: str


async def effective_settings(svc: Services, group_id: int) -> Effective:
    async with svc.db.transaction() as s:
        row = await store.group_settings(s, group_id)
    if row is None:
        return Effective(svc.settings.group_timezone, "always")
    return Effective(row.timezone, row.room_open_policy)


async def update_group_settings(
    svc: Services, actor: User, group_id: int, *, timezone: str, room_open_policy: str
) -> GroupSettings:
    zone(timezone)
    if timezone not in available_timezones():
        raise InvalidInput(f"Unknown time zone {timezone[:64]!r}.", code="invalid_timezone")
    if room_open_policy not in ROOM_POLICIES:
        raise InvalidInput("Choose when the room is open.", code="invalid_policy")
    now = svc.clock.now()
    async with svc.db.transaction() as s:
        await manager_scope(s, actor, group_id)
        row = await store.group_settings(s, group_id)
        if row is None:
            row = GroupSettings(group_id=group_id, timezone=timezone, updated_at=now)
        row.timezone, row.room_open_policy, row.updated_at = timezone, room_open_policy, now
        s.add(row)
        await audit.record(
            s,
            at=now,
            actor_id=actor.id,
            action="group.session_settings",
            target_type="group",
            target_id=group_id,
            group_id=group_id,
            detail={"timezone": timezone, "room_open_policy": room_open_policy},
        )
    return row


def _validate(topic: str, minutes: int, max_size: int, weeks: int) -> str:
    topic = " ".join(topic.split())
    if len(topic) > 200:
        raise InvalidInput("Keep the topic under 200 characters.", code="invalid_topic")
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise InvalidInput(
            f"A session lasts {MIN_MINUTES} to {MAX_MINUTES} minutes.", code="invalid_duration"
        )
    if not 2 <= max_size <= MAX_GROUP_SIZE:
        raise InvalidInput(
            f"Maximum size must be 2 to {MAX_GROUP_SIZE} people.", code="invalid_size"
        )
    if not 1 <= weeks <= MAX_WEEKS:
        raise InvalidInput(f"Repeat for 1 to {MAX_WEEKS} weeks.", code="invalid_repeat")
    return topic


async def schedule_sessions(
    svc: Services,
    actor: User,
    group_id: int,
    *,
    first_day: date,
    start: time,
    minutes: int,
    topic: str = "",
    max_size: int = 12,
    weeks: int = 1,
) -> list[GroupSession]:
    """One-off (weeks=1) or weekly occurrences at the same local time in the group's zone."""
    topic = _validate(topic, minutes, max_size, weeks)
    tz = zone((await effective_settings(svc, group_id)).timezone)
    now = svc.clock.now()
    starts = weekly_starts(first_day, start, tz, weeks)
    if starts[0] + timedelta(minutes=minutes) <= now:
        raise InvalidInput("That time has already passed.", code="in_the_past")
    series = secrets.token_hex(8) if weeks > 1 else ""
    out: list[GroupSession] = []
    async with svc.db.transaction() as s:
        await manager_scope(s, actor, group_id)
        for begin in starts:
            gs = GroupSession(
                group_id=group_id,
                series=series,
                topic=topic,
                max_size=max_size,
                scheduled_start=begin,
                scheduled_end=begin + timedelta(minutes=minutes),
                created_by=actor.id,
                created_at=now,
            )
            s.add(gs)
            out.append(gs)
        await s.flush()
        await audit.record(
            s,
            at=now,
            actor_id=actor.id,
            action="group_session.schedule",
            target_type="group_session",
            target_id=out[0].id,
            group_id=group_id,
            detail={"count": len(out), "series": series},
        )
    return out


async def cancel_session(svc: Services, actor: User, session_id: int) -> GroupSession:
    now = svc.clock.now()
    async with svc.db.transaction() as s:
        gs = await managed_session(s, actor, session_id)
        if gs.status != "scheduled":
            raise InvalidInput("Only a session that has not started can be cancelled.")
        gs.status = "cancelled"
        s.add(gs)
        await audit.record(
            s,
            at=now,
            actor_id=actor.id,
            action="group_session.cancel",
            target_type="group_session",
            target_id=session_id,
            group_id=gs.group_id,
        )
    return gs


async def upcoming(svc: Services, user: User, group_id: int, limit: int = 10) -> list[GroupSession]:
    """Live and scheduled sessions that have not finished, soonest first (any member)."""
    async with svc.db.transaction() as s:
        await group_scope(s, user, group_id)
        rows = await store.sessions_of_group(
            s, group_id, after=svc.clock.now(), statuses=("scheduled", "live"), limit=limit
        )
    return rows


async def next_session(svc: Services, group_id: int) -> GroupSession | None:
    async with svc.db.transaction() as s:
        rows = await store.sessions_of_group(
            s, group_id, after=svc.clock.now(), statuses=("scheduled", "live"), limit=1
        )
    return rows[0] if rows else None


def local_text(at: datetime, tz_name: str) -> str:
    """'Tue 3 Mar 2026, 19:00 EST' in the group's zone."""
    local = at.astimezone(zone(tz_name))
    return local.strftime("%a %-d %b %Y, %H:%M %Z")


async def upcoming_lines(
    svc: Services, user: User, group_id: int
) -> list[tuple[GroupSession, str]]:
    """Upcoming sessions with their local time, for the group page."""
    tz = (await effective_settings(svc, group_id)).timezone
    return [
        (gs, local_text(gs.scheduled_start, tz)) for gs in await upcoming(svc, user, group_id, 5)
    ]


async def seed_demo_schedule(svc: Services, admin: User, group_id: int) -> None:
    """The demo group meets on Tuesdays at 19:00 for 90 minutes, for the next 8 weeks."""
    tz = zone((await effective_settings(svc, group_id)).timezone)
    today = svc.clock.now().astimezone(tz).date()
    tuesday = today + timedelta(days=(1 - today.weekday()) % 7 or 7)
    await schedule_sessions(
        svc,
        admin,
        group_id,
        first_day=tuesday,
        start=time(19, 0),
        minutes=90,
        weeks=8,
        topic="Open sharing",
    )
