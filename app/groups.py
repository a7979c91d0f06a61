"""Groups, invites, agreements and who belongs where."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from app import accounts
from app.errors import Forbidden, InvalidInput, NotFound
from app.realtime import closecodes
from app.services import Services
from app.storage import accounts as account_store
from app.storage import audit
from app.storage import groups as store
from app.storage.tables import (
    AgreementAcceptance,
    Group,
    Invite,
    Membership,
    Organisation,
    Room,
    User,
)

ROLES = ("member", "facilitator", "clinician")
STAFF_ROLES = ("facilitator", "clinician")
INVITE_INVALID = "This invite link is not valid. It may have expired or already been used."
CONFIDENTIALITY_NOTICE = (
    "What is shared in this group stays in this group, with one exception: if something you "
    "write suggests a risk to you, your baby or someone else, it may be shared with the "
    "group's clinicians so they can reach out and help."
)


@dataclass(frozen=True)
class MyGroup:
    group: Group
    membership: Membership
    room_id: int

    @property
    def needs_acceptance(self) -> bool:
        return self.membership.accepted_version < self.group.agreements_version


def require_admin(user: User) -> None:
    if not user.is_admin:
        raise NotFound()


async def ensure_org(svc: Services, name: str = "Village") -> Organisation:
    async with svc.db.transaction() as s:
        org = await store.first_org(s)
        if org is None:
            org = Organisation(name=name, created_at=svc.clock.now())
            s.add(org)
            await s.flush()
    return org


async def create_group(
    svc: Services, actor: User, *, name: str, description: str, agreements: str
) -> Group:
    require_admin(actor)
    name = " ".join(name.split())
    if not 2 <= len(name) <= 120:
        raise InvalidInput("Give the group a name of 2 to 120 characters.")
    now = svc.clock.now()
    async with svc.db.transaction() as s:
        group = Group(
            org_id=actor.org_id,
            name=name,
            description=description.strip(),
            agreements=agreements.strip(),
            created_at=now,
        )
        s.add(group)
        await s.flush()
        s.add(Room(group_id=group.id, kind="group", created_at=now))  # type: ignore[arg-type]
        await audit.record(
            s,
            at=now,
            actor_id=actor.id,
            action="group.create",
            target_type="group",
            target_id=group.id,
            group_id=group.id,
        )
    return group


async def update_agreements(svc: Services, actor: User, group_id: int, agreements: str) -> Group:
    require_admin(actor)
    now = svc.clock.now()
    async with svc.db.transaction() as s:
        group = await _org_group(s, actor, group_id)
        if agreements.strip() != group.agreements:
            group.agreements = agreements.strip()
            # Everyone must accept the new text before they next enter the room.
            group.agreements_version += 1
            s.add(group)
            await audit.record(
                s,
                at=now,
                actor_id=actor.id,
                action="group.agreements_update",
                target_type="group",
                target_id=group_id,
                group_id=group_id,
                detail={"version": group.agreements_version},
            )
    return group


async def create_invite(
    svc: Services,
    actor: User,
    group_id: int,
    *,
    role: str = "member",
    valid_hours: int = 72,
    single_use: bool = True,
) -> str:
    """Returns the invite token (shown once; only its hash is stored)."""
    require_admin(actor)
    if role not in ROLES:
        raise InvalidInput("Unknown role.")
    if not 1 <= valid_hours <= 24 * 60:
        raise InvalidInput("An invite can be valid for 1 hour to 60 days.")
    token = secrets.token_urlsafe(24)
    now = svc.clock.now()
    async with svc.db.transaction() as s:
        await _org_group(s, actor, group_id)
        invite = Invite(
            group_id=group_id,
            token_hash=accounts.token_hash(token),
            role=role,
            expires_at=now + timedelta(hours=valid_hours),
            single_use=single_use,
            created_by=actor.id,
            created_at=now,
        )  # type: ignore[arg-type]
        s.add(invite)
        await s.flush()
        await audit.record(
            s,
            at=now,
            actor_id=actor.id,
            action="invite.create",
            target_type="invite",
            target_id=invite.id,
            group_id=group_id,
            detail={"role": role, "single_use": single_use},
        )
    return token


async def open_invite(svc: Services, token: str) -> tuple[Invite, Group]:
    async with svc.db.transaction() as s:
        invite = await store.invite_by_token_hash(s, accounts.token_hash(token))
        if invite is None or not _invite_usable(invite, svc):
            raise NotFound(INVITE_INVALID)
        group = await store.group_by_id(s, invite.group_id)
        assert group is not None
    return invite, group


def _invite_usable(invite: Invite, svc: Services) -> bool:
    return not (
        invite.revoked
        or invite.expires_at <= svc.clock.now()
        or (invite.single_use and invite.uses > 0)
    )


async def redeem_invite(
    svc: Services,
    token: str,
    *,
    user: User | None = None,
    email: str = "",
    display_name: str = "",
    password: str = "",
) -> User:
    """Join the invite's group: as the signed-in user, or as a new account."""
    invite, group = await open_invite(svc, token)
    if user is None:
        user = await accounts.create_user(
            svc, org_id=group.org_id, email=email, display_name=display_name, password=password
        )
    now = svc.clock.now()
    async with svc.db.transaction() as s:
        fresh = await store.invite_by_token_hash(s, accounts.token_hash(token))
        # Re-checked inside the transaction so a single-use link cannot be used twice.
        if fresh is None or not _invite_usable(fresh, svc):
            raise NotFound(INVITE_INVALID)
        fresh.uses += 1
        s.add(fresh)
        await _upsert_membership(s, group.id, user.id, invite.role, now)  # type: ignore[arg-type]
        await audit.record(
            s,
            at=now,
            actor_id=user.id,
            action="invite.redeem",
            target_type="invite",
            target_id=invite.id,
            group_id=group.id,
            detail={"role": invite.role},
        )
    return user


async def assign(svc: Services, actor: User, group_id: int, email: str, role: str) -> Membership:
    """An admin adds an existing account to a group (staff assignment)."""
    require_admin(actor)
    if role not in ROLES:
        raise InvalidInput("Unknown role.")
    now = svc.clock.now()
    async with svc.db.transaction() as s:
        await _org_group(s, actor, group_id)
        user = await account_store.user_by_email(s, accounts.normalise_email(email))
        if user is None or user.org_id != actor.org_id:
            raise InvalidInput("No account with that email in this organisation.")
        m = await _upsert_membership(s, group_id, user.id, role, now)  # type: ignore[arg-type]
        await audit.record(
            s,
            at=now,
            actor_id=actor.id,
            action="membership.assign",
            target_type="user",
            target_id=user.id,
            group_id=group_id,
            detail={"role": role},
        )
    return m


async def remove_member(
    svc: Services, actor: User, group_id: int, user_id: int, *, reason: str = ""
) -> None:
    """Removal takes effect at once: the person's open sockets in the group close."""
    now = svc.clock.now()
    async with svc.db.transaction() as s:
        group = await store.group_by_id(s, group_id)
        actor_m = await store.membership(s, group_id, actor.id)  # type: ignore[arg-type]
        allowed = actor.is_admin or (
            actor_m is not None and actor_m.status == "active" and actor_m.role == "facilitator"
        )
        if group is None or group.org_id != actor.org_id or not allowed:
            raise NotFound()
        m = await store.membership(s, group_id, user_id)
        if m is None or m.status != "active":
            raise NotFound()
        if m.role != "member" and not actor.is_admin:
            raise Forbidden("Only an admin can remove staff from a group.")
        m.status = "removed"
        s.add(m)
        await audit.record(
            s,
            at=now,
            actor_id=actor.id,
            action="membership.remove",
            target_type="user",
            target_id=user_id,
            group_id=group_id,
            detail={"reason": reason} if reason else None,
        )
    await svc.hub.close_user(user_id, closecodes.FORBIDDEN, "removed from group", group_id)


async def accept_agreements(svc: Services, user: User, group_id: int) -> None:
    now = svc.clock.now()
    async with svc.db.transaction() as s:
        group = await store.group_by_id(s, group_id)
        m = await store.membership(s, group_id, user.id)  # type: ignore[arg-type]
        if group is None or m is None or m.status != "active":
            raise NotFound()
        m.accepted_version = group.agreements_version
        m.accepted_at = now
        s.add(m)
        s.add(
            AgreementAcceptance(
                group_id=group_id,
                user_id=user.id,  # type: ignore[arg-type]
                version=group.agreements_version,
                accepted_at=now,
            )
        )
        await audit.record(
            s,
            at=now,
            actor_id=user.id,
            action="agreements.accept",
            target_type="group",
            target_id=group_id,
            group_id=group_id,
            detail={"version": group.agreements_version},
        )


async def my_groups(svc: Services, user: User) -> list[MyGroup]:
    async with svc.db.transaction() as s:
        rows = await store.memberships_of_user(s, user.id)  # type: ignore[arg-type]
        out = []
        for m, g in rows:
            room = await store.group_room(s, g.id)  # type: ignore[arg-type]
            out.append(MyGroup(g, m, room.id if room else 0))  # type: ignore[arg-type]
    return out


async def my_group(svc: Services, user: User, group_id: int) -> MyGroup:
    for mg in await my_groups(svc, user):
        if mg.group.id == group_id:
            return mg
    raise NotFound()


async def org_overview(
    svc: Services, actor: User
) -> list[tuple[Group, list[tuple[Membership, User]], list[Invite]]]:
    require_admin(actor)
    async with svc.db.transaction() as s:
        out = []
        for g in await store.groups_of_org(s, actor.org_id):
            members = await store.members_of_group(s, g.id)  # type: ignore[arg-type]
            invites = await store.invites_of_group(s, g.id)  # type: ignore[arg-type]
            out.append((g, members, invites))
    return out


async def _org_group(s, actor: User, group_id: int) -> Group:  # type: ignore[no-untyped-def]
    group = await store.group_by_id(s, group_id)
    if group is None or group.org_id != actor.org_id:
        raise NotFound()
    return group


async def _upsert_membership(s, group_id: int, user_id: int, role: str, now) -> Membership:  # type: ignore[no-untyped-def]
    m = await store.membership(s, group_id, user_id)
    if m is None:
        m = Membership(group_id=group_id, user_id=user_id, role=role, created_at=now)
    else:
        m.role, m.status = role, "active"
    s.add(m)
    await s.flush()
    return m
