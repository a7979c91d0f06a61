"""Facilitator actions on messages and people: hide, unhide, remove from the room.

Each is one transaction with a permission check and an audit row naming the person who acted;
the real-time event is published after commit. Nothing here runs without a human actor:
distress is never a violation, so the risk path never calls these.
"""

from __future__ import annotations

from typing import Any

from app import groups
from app.errors import Conflict, InvalidInput, NotFound
from app.facilitator_access import clean_reason, require_facilitator
from app.messages import encode, message_frame
from app.realtime.envelope import Envelope
from app.services import Services
from app.storage import audit
from app.storage import facilitation as store
from app.storage import groups as group_store
from app.storage.tables import Message, User


def update_envelopes(msg: Message, sender: User, role: str) -> list[Envelope]:
    """A changed message as a `message_update` frame per audience.

    Sent with envelope seq 0: the hub de-duplicates by seq, and this is not a new message.
    Staff see a hidden message's text; members get a placeholder without it.
    """

    def frame(placeholder: bool = False) -> str:
        f: dict[str, Any] = message_frame(msg, sender.display_name, role, placeholder=placeholder)
        f["type"] = "message_update"
        return encode(f)

    if msg.status == "hidden":
        return [Envelope(0, "staff", frame()), Envelope(0, "members", frame(placeholder=True))]
    return [Envelope(0, "*", frame())]


def _seq(seq: object) -> int:
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
        raise InvalidInput("seq must be a positive number.", code="invalid_seq")
    return seq


async def hide_message(
    svc: Services, actor: User, room_id: int, seq: int, reason: object
) -> Message:
    """Hide a message from members (staff still see it), with the facilitator's reason."""
    return await _set_hidden(svc, actor, room_id, seq, reason, hide=True)


async def unhide_message(
    svc: Services, actor: User, room_id: int, seq: int, reason: object = ""
) -> Message:
    return await _set_hidden(svc, actor, room_id, seq, reason, hide=False)


async def _set_hidden(
    svc: Services, actor: User, room_id: int, seq: int, reason: object, *, hide: bool
) -> Message:
    seq = _seq(seq)
    why = clean_reason(reason, required=hide, what="a reason for hiding this message")
    now = svc.clock.now()
    async with svc.db.transaction() as s:
        mr = await require_facilitator(s, actor, room_id)
        found = await store.message_by_seq(s, room_id, seq)
        if found is None:
            raise NotFound("That message does not exist.")
        msg, sender = found
        if msg.status == "held":
            # Held messages belong to the care team's risk path (release, not unhide).
            raise Conflict("This message is held for the care team.", code="message_held")
        if hide and msg.status == "hidden":
            raise Conflict("This message is already hidden.", code="already_hidden")
        if not hide and msg.status != "hidden":
            raise Conflict("This message is not hidden.", code="not_hidden")
        msg.status = "hidden" if hide else "visible"
        s.add(msg)
        await audit.record(
            s,
            at=now,
            actor_id=actor.id,
            action="message.hide" if hide else "message.unhide",
            target_type="message",
            target_id=msg.id,
            group_id=mr.group_id,
            detail={"room_id": room_id, "seq": seq, "reason": why},
        )
        roles = await group_store.roles_in_group(s, mr.group_id)
    await svc.hub.publish(room_id, update_envelopes(msg, sender, roles.get(sender.id, "member")))  # type: ignore[arg-type]
    return msg


async def remove_from_room(
    svc: Services, actor: User, room_id: int, user_id: int, reason: object = ""
) -> None:
    """Remove a member from the room's group: their sockets close at once (4003)."""
    why = clean_reason(reason)
    async with svc.db.transaction() as s:
        mr = await require_facilitator(s, actor, room_id)
    await groups.remove_member(svc, actor, mr.group_id, user_id, reason=why)
