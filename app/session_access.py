"""Who may run, read and bill a group's sessions. Non-members get NotFound, like elsewhere."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from app.errors import NotFound
from app.storage import group_sessions as session_store
from app.storage import groups as group_store
from app.storage.tables import Group, GroupSession, Membership, User


@dataclass(frozen=True)
class GroupScope:
    user: User
    group: Group
    membership: Membership | None

    @property
    def can_manage(self) -> bool:
        """Admins of the organisation and the group's facilitators schedule, run and bill."""
        if self.user.is_admin:
            return True
        m = self.membership
        return m is not None and m.role == "facilitator"

    @property
    def is_staff(self) -> bool:
        m = self.membership
        return self.can_manage or (m is not None and m.role == "clinician")


async def group_scope(s: AsyncSession, user: User, group_id: int) -> GroupScope:
    group = await group_store.group_by_id(s, group_id)
    m = await group_store.membership(s, group_id, user.id)  # type: ignore[arg-type]
    if m is not None and m.status != "active":
        m = None
    if group is None or not user.is_active or group.org_id != user.org_id:
        raise NotFound()
    if m is None and not user.is_admin:
        raise NotFound()
    return GroupScope(user, group, m)


async def manager_scope(s: AsyncSession, user: User, group_id: int) -> GroupScope:
    scope = await group_scope(s, user, group_id)
    if not scope.can_manage:
        raise NotFound()
    return scope


async def staff_session(
    s: AsyncSession, user: User, session_id: int
) -> tuple[GroupSession, GroupScope]:
    """A session the user sees as staff of its group; anyone else is told it does not exist."""
    gs = await session_store.session_by_id(s, session_id)
    if gs is None:
        raise NotFound()
    scope = await group_scope(s, user, gs.group_id)
    if not scope.is_staff:
        raise NotFound()
    return gs, scope


async def managed_session(s: AsyncSession, user: User, session_id: int) -> GroupSession:
    """A session the user may run (facilitator of its group or admin), else NotFound."""
    gs = await session_store.session_by_id(s, session_id)
    if gs is None:
        raise NotFound()
    await manager_scope(s, user, gs.group_id)
    return gs
