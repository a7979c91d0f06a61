"""Read side of the audit log for the admin viewer (the log itself is insert-only)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_
from sqlalchemy.orm import aliased
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.storage.tables import AuditEntry, Group, User


async def search(
    s: AsyncSession,
    *,
    org_id: int,
    action: str | None = None,
    actor_id: int | None = None,
    group_id: int | None = None,
    since: datetime | None = None,
    before: datetime | None = None,
    limit: int | None = 500,
) -> list[tuple[AuditEntry, User | None, Group | None]]:
    """Newest first; only rows whose actor or group belongs to the organisation."""
    actor = aliased(User)
    q = (
        select(AuditEntry, actor, Group)
        .outerjoin(actor, actor.id == AuditEntry.actor_id)  # type: ignore[arg-type]
        .outerjoin(Group, Group.id == AuditEntry.group_id)  # type: ignore[arg-type]
        .where(or_(actor.org_id == org_id, Group.org_id == org_id))
    )
    if action:
        q = q.where(AuditEntry.action == action)
    if actor_id is not None:
        q = q.where(AuditEntry.actor_id == actor_id)
    if group_id is not None:
        q = q.where(AuditEntry.group_id == group_id)
    if since is not None:
        q = q.where(AuditEntry.at >= since)
    if before is not None:
        q = q.where(AuditEntry.at < before)
    q = q.order_by(AuditEntry.id.desc())  # type: ignore[union-attr]
    if limit is not None:
        q = q.limit(limit)
    return [(e, a, g) for e, a, g in (await s.exec(q)).all()]


async def actions(s: AsyncSession) -> list[str]:
    q = select(AuditEntry.action).distinct().order_by(AuditEntry.action)
    return list((await s.exec(q)).all())


async def users_by_id(s: AsyncSession, ids: set[int]) -> dict[int, User]:
    if not ids:
        return {}
    rows = await s.exec(select(User).where(User.id.in_(ids)))  # type: ignore[union-attr]
    return {u.id: u for u in rows.all()}  # type: ignore[misc]
