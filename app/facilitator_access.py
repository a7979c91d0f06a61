"""Who may moderate a room: the group's active facilitators, or an admin of its organisation.

Checked inside each moderation action's own transaction. Strangers get NotFound (nobody learns
the room exists); members and clinicians of the group get Forbidden.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from app.errors import Forbidden, InvalidInput, NotFound
from app.realtime.envelope import Envelope
from app.storage import facilitation as store
from app.storage import groups as group_store
from app.storage import messages as message_store
from app.storage.tables import Group, Room, User

REASON_MAX_CHARS = 500
ONLY_FACILITATORS = "Only the group's facilitators can do that."


@dataclass(frozen=True)
class ModeratedRoom:
    room: Room
    group: Group
    actor: User

    @property
    def room_id(self) -> int:
        return self.room.id  # type: ignore[return-value]

    @property
    def group_id(self) -> int:
        return self.group.id  # type: ignore[return-value]


async def require_facilitator(
    s: AsyncSession, actor: User, room_id: int, *, allow_admin: bool = True
) -> ModeratedRoom:
    """allow_admin: an admin may act without membership, but reads of room content (the
    flags panel) stay with the group's facilitators, like every other room read."""
    room = await message_store.room_by_id(s, room_id)
    # Moderation is for group rooms; private follow-up rooms belong to the clinicians.
    if room is None or room.kind != "group" or not actor.is_active:
        raise NotFound()
    group = await group_store.group_by_id(s, room.group_id)
    if group is None or group.org_id != actor.org_id:
        raise NotFound()
    if actor.is_admin and allow_admin:
        return ModeratedRoom(room, group, actor)
    m = await group_store.membership(s, room.group_id, actor.id)  # type: ignore[arg-type]
    if m is None or m.status != "active":
        raise NotFound()
    if m.role != "facilitator":
        raise Forbidden(ONLY_FACILITATORS)
    return ModeratedRoom(room, group, actor)


def clean_reason(reason: object, *, required: bool = False, what: str = "a reason") -> str:
    if reason is None:
        reason = ""
    if not isinstance(reason, str):
        raise InvalidInput("The reason must be text.", code="invalid_reason")
    reason = " ".join(reason.split())
    if required and not reason:
        raise InvalidInput(f"Please give {what}.", code="reason_required")
    if len(reason) > REASON_MAX_CHARS:
        raise InvalidInput(
            f"Keep the reason under {REASON_MAX_CHARS} characters.", code="invalid_reason"
        )
    return reason


async def facilitators_audience(s: AsyncSession, group_id: int) -> str:
    """Facilitators only, by id: the "staff" audience would include clinicians."""
    return ",".join(f"u:{uid}" for uid in await store.facilitator_ids(s, group_id))


def to_facilitators(audience: str, frame: str) -> list[Envelope]:
    return [Envelope(0, audience, frame)] if audience else []
