"""Queries for organisations, groups, memberships, agreements and invites."""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.storage.tables import Group, Invite, Membership, Organisation, Room, User


async def first_org(s: AsyncSession) -> Organisation | None:
    return (await s.exec(select(Organisation).order_by(Organisation.id))).first()  # type: ignore[arg-type]


async def group_by_id(s: AsyncSession, group_id: int) -> Group | None:
    return await s.get(Group, group_id)


async def groups_of_org(s: AsyncSession, org_id: int) -> list[Group]:
    q = select(Group).where(Group.org_id == org_id).order_by(Group.name)
    return list((await s.exec(q)).all())


async def membership(s: AsyncSession, group_id: int, user_id: int) -> Membership | None:
    q = select(Membership).where(Membership.group_id == group_id, Membership.user_id == user_id)
    return (await s.exec(q)).first()


async def memberships_of_user(s: AsyncSession, user_id: int) -> list[tuple[Membership, Group]]:
    q = (
        select(Membership, Group)
        .join(Group, Group.id == Membership.group_id)  # type: ignore[arg-type]
        .where(Membership.user_id == user_id, Membership.status == "active")
        .order_by(Group.name)
    )
    return [(m, g) for m, g in (await s.exec(q)).all()]


async def members_of_group(
    s: AsyncSession, group_id: int, *, roles: tuple[str, ...] | None = None
) -> list[tuple[Membership, User]]:
    q = (
        select(Membership, User)
        .join(User, User.id == Membership.user_id)  # type: ignore[arg-type]
        .where(Membership.group_id == group_id, Membership.status == "active")
    )
    if roles:
        q = q.where(Membership.role.in_(roles))  # type: ignore[attr-defined]
    q = q.order_by(User.display_name)
    return [(m, u) for m, u in (await s.exec(q)).all()]


async def invite_by_token_hash(s: AsyncSession, token_hash: str) -> Invite | None:
    return (await s.exec(select(Invite).where(Invite.token_hash == token_hash))).first()


async def invites_of_group(s: AsyncSession, group_id: int) -> list[Invite]:
    q = select(Invite).where(Invite.group_id == group_id).order_by(Invite.id.desc())  # type: ignore[union-attr]
    return list((await s.exec(q)).all())


async def group_room(s: AsyncSession, group_id: int) -> Room | None:
    q = select(Room).where(Room.group_id == group_id, Room.kind == "group")
    return (await s.exec(q)).first()


async def roles_in_group(s: AsyncSession, group_id: int) -> dict[int, str]:
    """Every user's role in the group, removed members included (for old messages)."""
    q = select(Membership.user_id, Membership.role).where(Membership.group_id == group_id)
    return {uid: role for uid, role in (await s.exec(q)).all()}
