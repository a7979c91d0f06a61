"""The audit log: insert-only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.storage.tables import AuditEntry


async def record(
    s: AsyncSession,
    *,
    at: datetime,
    actor_id: int | None,
    action: str,
    target_type: str = "",
    target_id: int | None = None,
    group_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        at=at,
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        group_id=group_id,
        detail=detail or {},
    )
    s.add(entry)
    await s.flush()
    return entry


async def entries(
    s: AsyncSession,
    *,
    action: str | None = None,
    actor_id: int | None = None,
    group_id: int | None = None,
    limit: int = 500,
) -> list[AuditEntry]:
    q = select(AuditEntry)
    if action:
        q = q.where(AuditEntry.action == action)
    if actor_id is not None:
        q = q.where(AuditEntry.actor_id == actor_id)
    if group_id is not None:
        q = q.where(AuditEntry.group_id == group_id)
    q = q.order_by(AuditEntry.id.desc()).limit(limit)  # type: ignore[union-attr]
    return list((await s.exec(q)).all())
