"""Attendance from real connections.

Every WebSocket connection to a group room is stored as an interval (joined, left). A
member's time in a session is the *union* of her intervals clipped to the session's start and
end, so two tabs count once and a reconnect (a baby waking, a dropped train signal) neither
erases nor splits her attendance. Intervals are kept whether or not a session is live; a
session reads the ones that overlap it, so joining early or staying past the end works.

A worker that dies cannot write `left_at`. While a worker lives it refreshes `last_seen_at` on
its open intervals every HEARTBEAT_SECS; an open interval whose last beat is older than
STALE_AFTER_SECS is treated as having ended at that last beat. When a session ends, this
worker beats first, so its own sockets count right up to the end.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import secrets
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.access import Seat
from app.attendance_writes import Interval, write_batch
from app.realtime.envelope import Envelope
from app.services import Services
from app.storage import group_sessions as store
from app.storage.tables import AttendanceRecord, ConnectionInterval, GroupSession

log = logging.getLogger("village.attendance")

WORKER_ID = secrets.token_hex(8)  # identifies this process's intervals for its heartbeat
HEARTBEAT_SECS = 60
STALE_AFTER_SECS = 3 * HEARTBEAT_SECS  # three missed beats: the worker is gone
STATUSES = ("attended", "partial", "missed", "excused")


def effective_end(iv: ConnectionInterval, now: datetime) -> datetime:
    """When an interval ended: its leave, now if its worker still beats, else its last beat."""
    if iv.left_at is not None:
        return iv.left_at
    if iv.last_seen_at >= now - timedelta(seconds=STALE_AFTER_SECS):
        return now
    return iv.last_seen_at


def union_seconds(
    spans: Iterable[tuple[datetime, datetime]], start: datetime, end: datetime
) -> int:
    """Total seconds covered by spans within [start, end]; overlaps counted once."""
    clipped = sorted((max(a, start), min(b, end)) for a, b in spans)
    total, cur_a, cur_b = 0.0, None, None
    for a, b in clipped:
        if b <= a:
            continue
        if cur_b is None or a > cur_b:
            if cur_b is not None:
                total += (cur_b - cur_a).total_seconds()  # type: ignore[operator]
            cur_a, cur_b = a, b
        else:
            cur_b = max(cur_b, b)
    if cur_b is not None:
        total += (cur_b - cur_a).total_seconds()  # type: ignore[operator]
    return int(total)


def status_for(minutes: int, session_minutes: int, attended_min_percent: int) -> str:
    if minutes <= 0:
        return "missed"
    if minutes * 100 >= session_minutes * attended_min_percent:
        return "attended"
    return "partial"


@dataclass(frozen=True)
class Presence:
    user_id: int
    role: str
    seconds: int
    first_joined_at: datetime
    last_left_at: datetime
    here_now: bool

    @property
    def minutes(self) -> int:
        # Whole minutes, rounded down: a payer audits minutes claimed, never rounded up.
        return self.seconds // 60


def presences(
    intervals: list[ConnectionInterval], start: datetime, end: datetime, now: datetime
) -> dict[int, Presence]:
    by_user: dict[int, list[ConnectionInterval]] = defaultdict(list)
    for iv in intervals:
        by_user[iv.user_id].append(iv)
    out: dict[int, Presence] = {}
    for uid, ivs in by_user.items():
        spans = [(iv.joined_at, effective_end(iv, now)) for iv in ivs]
        seconds = union_seconds(spans, start, end)
        inside = [(max(a, start), min(b, end)) for a, b in spans if min(b, end) > max(a, start)]
        here_now = any(iv.left_at is None and effective_end(iv, now) == now for iv in ivs)
        if not inside:
            if not here_now:
                continue
            inside = [(min(now, end), min(now, end))]  # arrived this very moment
        out[uid] = Presence(
            user_id=uid,
            role=ivs[-1].role,
            seconds=seconds,
            first_joined_at=min(a for a, _ in inside),
            last_left_at=max(b for _, b in inside),
            here_now=here_now,
        )
    return out


# --- hooks called by the WebSocket endpoint -------------------------------------------------


def joined(svc: Services, seat: Seat) -> Interval | None:
    """Record a connection to a group room, without waiting for the write (it goes with the
    other joins and leaves of the moment: app.attendance_writes); the socket hands the
    interval to `disconnected`. Best-effort: attendance must never stop someone from chatting."""
    if seat.room_kind != "group":
        return None
    iv = Interval(seat, svc.clock.now())
    svc.intervals.add(iv, functools.partial(_write, svc))
    return iv


async def connected(svc: Services, seat: Seat) -> Interval | None:
    """`joined`, then wait until the join is written."""
    iv = joined(svc, seat)
    if iv is not None:
        await svc.intervals.written(iv)
    return iv


async def disconnected(svc: Services, seat: Seat, interval: Interval | None) -> None:
    """Record the leave and wait until it is written. The write belongs to the batch's own
    task: a socket's handler is often being cancelled when this is called, and cancelling
    the wait loses nothing."""
    if interval is None or interval.left_at is not None:
        return
    interval.left_at = svc.clock.now()
    svc.intervals.add(interval, functools.partial(_write, svc))
    await svc.intervals.written(interval)


DRAIN_SECS = 5.0


async def drain(svc: Services) -> None:
    """At shutdown, before the database closes: let joins and leaves queued so far finish."""
    await svc.intervals.drain(DRAIN_SECS)


async def _write(svc: Services, batch: list[Interval]) -> None:
    async with svc.db.transaction() as s:
        await write_batch(s, WORKER_ID, batch)
    for group_id, room_id in {(iv.seat.group_id, iv.seat.room_id) for iv in batch}:
        request_roster(svc, group_id, room_id)


async def beat(svc: Services) -> None:
    async with svc.db.transaction() as s:
        await store.beat(s, WORKER_ID, svc.clock.now())


# --- live roster and frozen records ----------------------------------------------------------


@dataclass(frozen=True)
class RosterLine:
    user_id: int
    name: str
    role: str
    minutes: int
    here_now: bool


async def roster(svc: Services, gs: GroupSession, room_id: int) -> list[RosterLine]:
    """Everyone who has been present in a live session so far, here-now first."""
    await beat(svc)  # this worker's own sockets are alive right now
    now = svc.clock.now()
    start = gs.started_at or gs.scheduled_start
    end = gs.ended_at or now
    async with svc.db.transaction() as s:
        ivs = await store.intervals_overlapping(s, room_id, start, end)
        found = presences(ivs, start, end, now)
        users = await store.users_by_id(s, set(found))
    lines = [
        RosterLine(uid, users[uid].display_name, p.role, p.minutes, p.here_now)
        for uid, p in found.items()
        if uid in users
    ]
    return sorted(lines, key=lambda r: (not r.here_now, r.name.lower()))


def roster_frame(gs: GroupSession, lines: list[RosterLine]) -> str:
    return json.dumps(
        {
            "type": "roster",
            "session": gs.id,
            "present": [_line(r) for r in lines if r.here_now],
            "been": [_line(r) for r in lines if not r.here_now],
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )


def _line(r: RosterLine) -> dict[str, object]:
    return {"id": r.user_id, "name": r.name, "role": r.role, "minutes": r.minutes}


def request_roster(svc: Services, group_id: int, room_id: int) -> None:
    """Ask for a roster frame soon. Joins and leaves arriving together share one: computing
    a roster reads every interval of the room, so one per socket made a storm quadratic."""
    svc.rosters.request(room_id, functools.partial(publish_roster, svc, group_id, room_id))


async def publish_roster(svc: Services, group_id: int, room_id: int) -> None:
    """Staff-only frame: who is present now and who has been, while a session is live."""
    async with svc.db.transaction() as s:
        gs = await store.live_session(s, group_id)
    if gs is None:
        return
    lines = await roster(svc, gs, room_id)
    with contextlib.suppress(Exception):
        await svc.hub.publish(room_id, [Envelope(0, "staff", roster_frame(gs, lines))])


async def freeze(s, svc: Services, gs: GroupSession, room_id: int, members: list[int]) -> None:  # type: ignore[no-untyped-def]
    """Write one record per expected member and per person present, inside end_session's
    transaction. Open intervals of live workers count up to the session's end."""
    assert gs.started_at is not None and gs.ended_at is not None
    ivs = await store.intervals_overlapping(s, room_id, gs.started_at, gs.ended_at)
    found = presences(ivs, gs.started_at, gs.ended_at, gs.ended_at)
    session_minutes = max(1, int((gs.ended_at - gs.started_at).total_seconds() // 60))
    pct = svc.settings.attended_min_percent
    for uid in set(members) | set(found):
        p = found.get(uid)
        minutes = p.minutes if p else 0
        s.add(
            AttendanceRecord(
                session_id=gs.id,  # type: ignore[arg-type]
                user_id=uid,
                role=p.role if p else "member",
                first_joined_at=p.first_joined_at if p else None,
                last_left_at=p.last_left_at if p else None,
                minutes=minutes,
                status=status_for(minutes, session_minutes, pct),
            )
        )
