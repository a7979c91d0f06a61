"""Room lock, slow mode and member mutes: set by facilitators, enforced in send_message.

Staff (facilitators, clinicians) are never muted, locked out or slowed: they must always be
able to reach the group. Mutes apply to the group room only, never to a member's private
follow-up with the clinicians.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.errors import Conflict, Forbidden, InvalidInput, NotFound, VillageError
from app.facilitator_access import (
    clean_reason,
    facilitators_audience,
    require_facilitator,
    to_facilitators,
)
from app.realtime.envelope import STAFF_ROLES, Envelope
from app.services import Services
from app.storage import audit
from app.storage import facilitation as store
from app.storage import groups as group_store
from app.storage.tables import MemberMute, Membership, RoomControl, User

MUTE_MAX_MINUTES = 24 * 60  # longer than a day is a removal decision, not a pause
SLOW_MODE_MAX_SECS = 600


class SendRefused(VillageError):
    """A send the room's controls do not allow; `extra` travels in the error frame."""

    status = 403

    def __init__(self, code: str, message: str, **extra: Any) -> None:
        super().__init__(message, code=code)
        self.extra = extra


def encode(frame: dict[str, Any]) -> str:
    # Not app.messages.encode: messages imports this module for the send check.
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)


def _iso(at: datetime | None) -> str | None:
    return at.isoformat(timespec="seconds") if at else None


async def send_restriction(
    s: AsyncSession, room_id: int, room_kind: str, membership: Membership, now: datetime
) -> SendRefused | None:
    """Lock, mute or slow mode for this member now, or None. messages.send_message refuses
    the message, unless it carries risk: then it is held for the care team instead."""
    if membership.role in STAFF_ROLES or room_kind != "group":
        return None
    control = await store.room_control(s, room_id)
    if control is not None and control.locked:
        return SendRefused(
            "room_locked",
            "A facilitator has paused this room: you can read, but not send, for now.",
        )
    mutes = await store.active_mutes(s, membership.group_id, now, membership.user_id)
    if mutes:
        until = max(m.until for m in mutes)
        return SendRefused(
            "muted",
            "A facilitator has paused your messages in this group until "
            f"{until:%H:%M} UTC. You can still read, and message the care team privately.",
            until=_iso(until),
        )
    if control is not None and control.slow_mode_seconds:
        last = await store.last_message_at(s, room_id, membership.user_id)
        wait = timedelta(seconds=control.slow_mode_seconds) - (now - last) if last else None
        if wait is not None and wait.total_seconds() > 0:
            retry = math.ceil(wait.total_seconds())
            return SendRefused(
                "slow_mode",
                f"Slow mode is on: one message every {control.slow_mode_seconds} seconds. "
                f"You can send again in {retry} s.",
                retry_after=retry,
            )
    return None


def room_state_frame(room_id: int, control: RoomControl | None) -> str:
    return _state_frame(
        room_id, bool(control and control.locked), control.slow_mode_seconds if control else 0
    )


def _state_frame(room_id: int, locked: bool, slow_mode_seconds: int) -> str:
    return encode(
        {
            "type": "room_state",
            "room": room_id,
            "locked": locked,
            "slow_mode_seconds": slow_mode_seconds,
        }
    )


def mute_state_frame(room_id: int, user_id: int, until: datetime | None) -> str:
    return encode(
        {"type": "mute_state", "room": room_id, "user_id": user_id, "muted_until": _iso(until)}
    )


async def greeting_frames(
    svc: Services, room_id: int, room_kind: str, group_id: int, user_id: int
) -> list[str]:
    """Sent to a socket after it catches up: the room's state and the viewer's own mute."""
    if room_kind != "group":
        return []
    async with svc.db.transaction() as s:
        control = await store.room_control(s, room_id)
        mutes = await store.active_mutes(s, group_id, svc.clock.now(), user_id)
    until = max(m.until for m in mutes) if mutes else None
    slow = control.slow_mode_seconds if control else 0
    return greeting(room_id, user_id, bool(control and control.locked), slow, until)


def greeting(
    room_id: int, user_id: int, locked: bool, slow_mode_seconds: int, muted_until: datetime | None
) -> list[str]:
    """greeting_frames from values read elsewhere (app.handshake reads them with the backlog)."""
    out = [_state_frame(room_id, locked, slow_mode_seconds)]
    if muted_until is not None:
        out.append(mute_state_frame(room_id, user_id, muted_until))
    return out


async def _control_for_update(
    s: AsyncSession, room_id: int, actor: User, now: datetime
) -> RoomControl:
    control = await store.room_control(s, room_id)
    if control is None:
        control = RoomControl(room_id=room_id, updated_by=actor.id, updated_at=now)  # type: ignore[arg-type]
    control.updated_by, control.updated_at = actor.id, now  # type: ignore[assignment]
    return control


async def set_locked(
    svc: Services, actor: User, room_id: int, locked: object, reason: object = ""
) -> RoomControl:
    """Lock (read-only for members) or unlock the room."""
    if not isinstance(locked, bool):
        raise InvalidInput("locked must be true or false.", code="invalid_locked")
    why = clean_reason(reason)
    now = svc.clock.now()
    async with svc.db.transaction() as s:
        mr = await require_facilitator(s, actor, room_id)
        control = await _control_for_update(s, room_id, actor, now)
        if control.locked == locked:
            raise Conflict(
                "The room is already locked." if locked else "The room is not locked.",
                code="unchanged",
            )
        control.locked = locked
        s.add(control)
        await audit.record(
            s,
            at=now,
            actor_id=actor.id,
            action="room.lock" if locked else "room.unlock",
            target_type="room",
            target_id=room_id,
            group_id=mr.group_id,
            detail={"reason": why} if why else None,
        )
    await svc.hub.publish(room_id, [Envelope(0, "*", room_state_frame(room_id, control))])
    return control


async def set_slow_mode(svc: Services, actor: User, room_id: int, seconds: object) -> RoomControl:
    """One message per `seconds` per member; 0 turns slow mode off."""
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise InvalidInput("seconds must be a whole number.", code="invalid_seconds")
    if not 0 <= seconds <= SLOW_MODE_MAX_SECS:
        raise InvalidInput(
            f"Slow mode can be 0 (off) to {SLOW_MODE_MAX_SECS} seconds.", code="invalid_seconds"
        )
    now = svc.clock.now()
    async with svc.db.transaction() as s:
        mr = await require_facilitator(s, actor, room_id)
        control = await _control_for_update(s, room_id, actor, now)
        previous = control.slow_mode_seconds
        control.slow_mode_seconds = seconds
        s.add(control)
        await audit.record(
            s,
            at=now,
            actor_id=actor.id,
            action="room.slow_mode",
            target_type="room",
            target_id=room_id,
            group_id=mr.group_id,
            detail={"seconds": seconds, "previous": previous},
        )
    await svc.hub.publish(room_id, [Envelope(0, "*", room_state_frame(room_id, control))])
    return control


async def _mutable_member(s: AsyncSession, group_id: int, user_id: object) -> Membership:
    if isinstance(user_id, bool) or not isinstance(user_id, int):
        raise NotFound()
    m = await group_store.membership(s, group_id, user_id)
    if m is None or m.status != "active":
        raise NotFound("That person is not in this group.")
    if m.role != "member":
        raise Forbidden("Only members can be muted.", code="cannot_mute_staff")
    return m


async def mute_member(
    svc: Services, actor: User, room_id: int, user_id: int, minutes: object, reason: object = ""
) -> MemberMute:
    """Pause a member's messages in the group room for `minutes`; a new mute replaces the old."""
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise InvalidInput("minutes must be a whole number.", code="invalid_minutes")
    if not 1 <= minutes <= MUTE_MAX_MINUTES:
        raise InvalidInput(
            f"A mute can last 1 to {MUTE_MAX_MINUTES} minutes.", code="invalid_minutes"
        )
    why = clean_reason(reason)
    now = svc.clock.now()
    async with svc.db.transaction() as s:
        mr = await require_facilitator(s, actor, room_id)
        await _mutable_member(s, mr.group_id, user_id)
        for old in await store.active_mutes(s, mr.group_id, now, user_id):
            old.lifted_at, old.lifted_by = now, actor.id
            s.add(old)
        mute = MemberMute(
            group_id=mr.group_id,
            user_id=user_id,
            muted_by=actor.id,  # type: ignore[arg-type]
            reason=why,
            created_at=now,
            until=now + timedelta(minutes=minutes),
        )
        s.add(mute)
        await s.flush()
        await audit.record(
            s,
            at=now,
            actor_id=actor.id,
            action="member.mute",
            target_type="user",
            target_id=user_id,
            group_id=mr.group_id,
            detail={"minutes": minutes, "until": _iso(mute.until), "reason": why},
        )
        audience = await facilitators_audience(s, mr.group_id)
    frame = mute_state_frame(room_id, user_id, mute.until)
    await svc.hub.publish(
        room_id, [Envelope(0, f"u:{user_id}", frame), *to_facilitators(audience, frame)]
    )
    return mute


async def unmute_member(svc: Services, actor: User, room_id: int, user_id: int) -> None:
    now = svc.clock.now()
    async with svc.db.transaction() as s:
        mr = await require_facilitator(s, actor, room_id)
        await _mutable_member(s, mr.group_id, user_id)
        mutes = await store.active_mutes(s, mr.group_id, now, user_id)
        if not mutes:
            raise Conflict("This member is not muted.", code="not_muted")
        for old in mutes:
            old.lifted_at, old.lifted_by = now, actor.id
            s.add(old)
        await audit.record(
            s,
            at=now,
            actor_id=actor.id,
            action="member.unmute",
            target_type="user",
            target_id=user_id,
            group_id=mr.group_id,
        )
        audience = await facilitators_audience(s, mr.group_id)
    frame = mute_state_frame(room_id, user_id, None)
    await svc.hub.publish(
        room_id, [Envelope(0, f"u:{user_id}", frame), *to_facilitators(audience, frame)]
    )


async def room_overview(svc: Services, actor: User, room_id: int) -> dict[str, Any]:
    """What the facilitator panel shows: room state and the members with their mutes."""
    now = svc.clock.now()
    async with svc.db.transaction() as s:
        mr = await require_facilitator(s, actor, room_id, allow_admin=False)
        control = await store.room_control(s, room_id)
        people = await group_store.members_of_group(s, mr.group_id)
        mutes = {m.user_id: m.until for m in await store.active_mutes(s, mr.group_id, now)}
    return {
        "room": room_id,
        "locked": bool(control and control.locked),
        "slow_mode_seconds": control.slow_mode_seconds if control else 0,
        "members": [
            {
                "id": u.id,
                "name": u.display_name,
                "role": m.role,
                "muted_until": _iso(mutes.get(u.id)),  # type: ignore[arg-type]
            }
            for m, u in people
        ],
    }
