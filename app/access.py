"""Who may enter which room. Checked at every handshake, route and send, not in templates."""

from __future__ import annotations

from dataclasses import dataclass

from app.errors import AgreementsRequired, NotFound
from app.services import Services
from app.storage import groups as group_store
from app.storage import messages as message_store
from app.storage.tables import Group, Membership, Room, User

STAFF_ROLES = frozenset({"facilitator", "clinician"})


@dataclass(frozen=True)
class RoomAccess:
    user: User
    room: Room
    group: Group
    membership: Membership

    @property
    def role(self) -> str:
        return self.membership.role

    @property
    def is_staff(self) -> bool:
        return self.membership.role in STAFF_ROLES

    @property
    def card(self) -> dict[str, object]:
        return {"id": self.user.id, "name": self.user.display_name, "role": self.role}


async def enter_room(svc: Services, user: User, room_id: int) -> RoomAccess:
    """The same NotFound for a room that does not exist and one that is not yours."""
    async with svc.db.transaction() as s:
        room = await message_store.room_by_id(s, room_id)
        if room is None:
            raise NotFound()
        group = await group_store.group_by_id(s, room.group_id)
        m = await group_store.membership(s, room.group_id, user.id)  # type: ignore[arg-type]
    if group is None or m is None or m.status != "active" or not user.is_active:
        raise NotFound()
    if room.kind == "private" and not (room.member_id == user.id or m.role == "clinician"):
        raise NotFound()
    if m.accepted_version < group.agreements_version:
        raise AgreementsRequired()
    return RoomAccess(user, room, group, m)


async def still_allowed(svc: Services, access: RoomAccess) -> bool:
    """Re-checked on every send: a removal between connect and send must stop the message."""
    async with svc.db.transaction() as s:
        m = await group_store.membership(s, access.group.id, access.user.id)  # type: ignore[arg-type]
    return m is not None and m.status == "active"
