"""Who may enter which room. Checked at every handshake, route and send, not in templates."""

from __future__ import annotations

from dataclasses import dataclass

from app.errors import AgreementsRequired, NotFound
from app.services import Services
from app.storage import groups as group_store
from app.storage import messages as message_store
from app.storage.tables import Group, Membership, Room, User

STAFF_ROLES = frozenset({"facilitator", "clinician"})


@dataclass(frozen=True, slots=True)
class Seat:
    """A person's place in a room as a live socket keeps it: ids and the few scalars a send
    needs, never ORM rows (those cost ~7 KB per idle socket: docs/performance.md). Nothing
    here may change while she is connected except the role, which is taken at connect time
    as it always was; membership status, locks, mutes and slow mode are read again at each
    send (app.storage.send_path, app.messages)."""

    user_id: int
    user_name: str
    room_id: int
    room_kind: str
    group_id: int
    org_id: int
    role: str

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def card(self) -> dict[str, object]:
        return {"id": self.user_id, "name": self.user_name, "role": self.role}


@dataclass(frozen=True)
class RoomAccess:
    """The rows behind a check of enter_room, for one request. A socket keeps `seat` only."""

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

    @property
    def seat(self) -> Seat:
        return Seat(
            user_id=self.user.id,  # type: ignore[arg-type]
            user_name=self.user.display_name,
            room_id=self.room.id,  # type: ignore[arg-type]
            room_kind=self.room.kind,
            group_id=self.group.id,  # type: ignore[arg-type]
            org_id=self.group.org_id,
            role=self.role,
        )


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
