"""Running a group session: start, end, and whether the room is open for chat.

A group whose room_open_policy is `live_only` is open to members only while a session is live
or a facilitator is in the room; otherwise it is read-only and shows the next session time and
crisis resources. The check runs in the send path (messages.send_message), so no client can
bypass it; staff may always write.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from app import attendance, schedule
from app.access import RoomAccess, Seat
from app.errors import InvalidInput, VillageError
from app.realtime.envelope import Envelope
from app.services import Services
from app.session_access import managed_session, manager_scope
from app.storage import audit
from app.storage import group_sessions as store
from app.storage import groups as group_store
from app.storage.tables import GroupSession, User

log = logging.getLogger("village.group_sessions")

EARLY_START_MINUTES = 60  # a facilitator may open a session up to an hour before its time
AUTO_END_AFTER_MINUTES = 60  # still live an hour after its scheduled end: it was forgotten
UNSCHEDULED_MINUTES = 60


class RoomClosed(VillageError):
    code = "room_closed"
    status = 403
    message = "The room is read-only between sessions."


async def start_session(svc: Services, actor: User, session_id: int) -> GroupSession:
    now = svc.clock.now()
    async with svc.db.transaction() as s:
        gs = await managed_session(s, actor, session_id)
        if gs.status == "live":
            return gs
        if gs.status != "scheduled":
            raise InvalidInput("This session has ended or was cancelled.", code="not_startable")
        if gs.scheduled_start - now > timedelta(minutes=EARLY_START_MINUTES):
            raise InvalidInput(
                f"A session can be started at most {EARLY_START_MINUTES} minutes early.",
                code="too_early",
            )
        if await store.live_session(s, gs.group_id) is not None:
            raise InvalidInput("Another session of this group is live.", code="already_live")
        gs.status, gs.started_at, gs.started_by = "live", now, actor.id
        s.add(gs)
        await audit.record(
            s,
            at=now,
            actor_id=actor.id,
            action="group_session.start",
            target_type="group_session",
            target_id=gs.id,
            group_id=gs.group_id,
        )
    await _announce(svc, gs)
    return gs


async def start_unscheduled(svc: Services, actor: User, group_id: int) -> GroupSession:
    """Start a session now when none is scheduled (it is recorded like any other)."""
    now = svc.clock.now()
    local = now.astimezone(
        schedule.zone((await schedule.effective_settings(svc, group_id)).timezone)
    )
    created = await schedule.schedule_sessions(
        svc,
        actor,
        group_id,
        first_day=local.date(),
        start=local.timetz().replace(tzinfo=None, microsecond=0),
        minutes=UNSCHEDULED_MINUTES,
        topic="Unscheduled session",
    )
    return await start_session(svc, actor, created[0].id)  # type: ignore[arg-type]


async def end_session(svc: Services, actor: User, session_id: int) -> GroupSession:
    """End a live session and freeze its attendance records."""
    async with svc.db.transaction() as s:
        await managed_session(s, actor, session_id)
    return await _finish(svc, session_id, actor.id, None)


async def end_overdue(svc: Services) -> list[int]:
    """End sessions left live AUTO_END_AFTER_MINUTES past their scheduled end, as of that end
    (the audit row has no actor). Returns their ids."""
    cutoff = svc.clock.now() - timedelta(minutes=AUTO_END_AFTER_MINUTES)
    async with svc.db.transaction() as s:
        overdue = await store.live_sessions_ending_before(s, cutoff)
    ended = []
    for gs in overdue:
        try:
            await _finish(svc, gs.id, None, gs.scheduled_end)  # type: ignore[arg-type]
            ended.append(gs.id)
        except (InvalidInput, IntegrityError):
            pass  # another worker ended it first
    return ended  # type: ignore[return-value]


async def _finish(
    svc: Services, session_id: int, actor_id: int | None, at: datetime | None
) -> GroupSession:
    # This worker's sockets are alive right now: stamp them so they count to the end.
    await attendance.beat(svc)
    now = svc.clock.now()
    async with svc.db.transaction() as s:
        gs = await store.session_by_id(s, session_id)
        if gs is None or gs.status != "live":
            raise InvalidInput("This session is not live.", code="not_live")
        room = await group_store.group_room(s, gs.group_id)
        assert room is not None
        gs.status, gs.ended_at, gs.ended_by = "ended", max(at or now, gs.started_at), actor_id  # type: ignore[type-var]
        s.add(gs)
        members = await group_store.members_of_group(s, gs.group_id, roles=("member",))
        # Records are frozen now, so someone who joins the group later has none for it.
        expected = [u.id for _, u in members]
        await attendance.freeze(s, svc, gs, room.id, expected)  # type: ignore[arg-type]
        await audit.record(
            s,
            at=now,
            actor_id=actor_id,
            action="group_session.end" if actor_id else "group_session.auto_end",
            target_type="group_session",
            target_id=gs.id,
            group_id=gs.group_id,
        )
    await _announce(svc, gs)
    return gs


async def upkeep_loop(svc: Services) -> None:
    """For the life of the app: the attendance heartbeat, and ending forgotten sessions."""
    while True:
        await asyncio.sleep(attendance.HEARTBEAT_SECS)
        try:
            await attendance.beat(svc)
            await end_overdue(svc)
        except Exception:
            log.warning("group session upkeep failed; will retry")


async def _announce(svc: Services, gs: GroupSession) -> None:
    async with svc.db.transaction() as s:
        room = await group_store.group_room(s, gs.group_id)
    if room is None:
        return
    frame = json.dumps({"type": "session", "session": gs.id, "state": gs.status})
    try:
        await svc.hub.publish(room.id, [Envelope(0, "*", frame)])  # type: ignore[arg-type]
    except Exception:
        log.warning("session %s state not announced", gs.id)


async def facilitator_present(svc: Services, room_id: int) -> bool:
    return any(c.get("role") == "facilitator" for c in await svc.hub.presence.members(room_id))


async def closed_room_error(svc: Services, seat: Seat) -> RoomClosed | None:
    """The refusal for a member writing in a closed room, or None while the room is open.
    The send path decides: a message with any risk cue is held for the care team instead."""
    if seat.room_kind != "group" or seat.is_staff:
        return None
    group_id = seat.group_id
    async with svc.db.transaction() as s:
        settings = await store.group_settings(s, group_id)
        if settings is None or settings.room_open_policy != "live_only":
            return None
        if await store.live_session(s, group_id) is not None:
            return None
    if await facilitator_present(svc, seat.room_id):
        return None
    return RoomClosed(await closed_message(svc, group_id))


async def closed_message(svc: Services, group_id: int) -> str:
    nxt = await schedule.next_session(svc, group_id)
    tz = (await schedule.effective_settings(svc, group_id)).timezone
    when = (
        f"The next session is {schedule.local_text(nxt.scheduled_start, tz)}."
        if nxt
        else "No session is scheduled yet."
    )
    return f"The room is read-only between sessions. {when} {svc.settings.closed_room_crisis_text}"


async def room_panel(svc: Services, access: RoomAccess) -> dict[str, Any]:
    """What the room shows about sessions: live/next, countdown target, open or read-only,
    the controls this person may use and, for staff during a session, the roster."""
    group_id: int = access.group.id  # type: ignore[assignment]
    eff = await schedule.effective_settings(svc, group_id)
    async with svc.db.transaction() as s:
        live = await store.live_session(s, group_id)
        scope = (
            await manager_scope(s, access.user, group_id) if access.role == "facilitator" else None
        )
    nxt = live or await schedule.next_session(svc, group_id)
    now = svc.clock.now()
    closed = False
    if eff.room_open_policy == "live_only" and live is None and not access.is_staff:
        closed = not await facilitator_present(svc, access.room.id)  # type: ignore[arg-type]
    panel: dict[str, Any] = {
        "now": now.isoformat(),
        "timezone": eff.timezone,
        "policy": eff.room_open_policy,
        "closed": closed,
        "closed_message": await closed_message(svc, group_id) if closed else "",
        "crisis": svc.settings.closed_room_crisis_text,
        "can_manage": scope is not None,
        "session": _session_card(nxt, eff.timezone) if nxt else None,
        "can_start": bool(
            scope
            and nxt
            and nxt.status == "scheduled"
            and nxt.scheduled_start - now <= timedelta(minutes=EARLY_START_MINUTES)
        ),
        "roster": None,
    }
    if live is not None and access.is_staff:
        lines = await attendance.roster(svc, live, access.room.id)  # type: ignore[arg-type]
        panel["roster"] = json.loads(attendance.roster_frame(live, lines))
    return panel


def _session_card(gs: GroupSession, tz: str) -> dict[str, Any]:
    return {
        "id": gs.id,
        "topic": gs.topic,
        "status": gs.status,
        "starts_at": gs.scheduled_start.isoformat(),
        "ends_at": gs.scheduled_end.isoformat(),
        "started_at": gs.started_at.isoformat() if gs.started_at else None,
        "local": schedule.local_text(gs.scheduled_start, tz),
        "max_size": gs.max_size,
    }
