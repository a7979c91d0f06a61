"""Who may enter which room. Checked at every handshake, route and send, not in templates."""

from __future__ import annotations

from dataclasses import dataclass

from app.errors import AgreementsRequired, NotFound, VillageError
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
    refused = entry_refusal(
        user_id=user.id,  # type: ignore[arg-type]
        user_active=user.is_active,
        room_kind=room.kind,
        room_member_id=room.member_id,
        agreements_version=group.agreements_version if group is not None else None,
        role=m.role if m is not None else None,
        status=m.status if m is not None else None,
        accepted_version=m.accepted_version if m is not None else None,
    )
    if refused is not None:
        raise refused
    assert group is not None and m is not None
    return RoomAccess(user, room, group, m)


def entry_refusal(
    *,
    user_id: int,
    user_active: bool,
    room_kind: str | None,
    room_member_id: int | None,
    agreements_version: int | None,
    role: str | None,
    status: str | None,
    accepted_version: int | None,
) -> VillageError | None:
    """Why she may not enter a room (None: she may), from its rows' values; None values for
    a room, group or membership that does not exist. The WebSocket handshake reads them in
    one statement (app.handshake), pages through the ORM (enter_room)."""
    if room_kind is None or agreements_version is None or role is None:
        return NotFound()
    if status != "active" or not user_active:
        return NotFound()
    if room_kind == "private" and not (room_member_id == user_id or role == "clinician"):
        return NotFound()
    if (accepted_version or 0) < agreements_version:
        return AgreementsRequired()
    return None
