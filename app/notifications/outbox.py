"""Writing to the outbox: always inside the transaction that makes the notification necessary,
so a crash after commit loses nothing (the dispatcher finds the row)."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from app.services import Services
from app.storage import groups as group_store
from app.storage.tables import Escalation, Notification

WEBHOOK = "webhook"
EMAIL = "email"


async def enqueue(
    svc: Services,
    s: AsyncSession,
    esc: Escalation,
    reason: str,
    emails: list[str],
    *,
    webhook: bool = True,
) -> list[Notification]:
    """One row per recipient address (deduplicated) plus one webhook call if configured."""
    now = svc.clock.now()
    rows: list[Notification] = []
    targets: list[tuple[str, str]] = []
    if svc.settings.smtp_host:
        targets += [(EMAIL, e) for e in dict.fromkeys(e.strip().lower() for e in emails if e)]
    if webhook and svc.settings.webhook_url:
        targets.append((WEBHOOK, svc.settings.webhook_url))
    for channel, recipient in targets:
        n = Notification(
            escalation_id=esc.id,  # type: ignore[arg-type]
            org_id=esc.org_id,
            channel=channel,
            recipient=recipient,
            reason=reason,
            severity=esc.severity,
            next_attempt_at=now,
            created_at=now,
        )
        s.add(n)
        rows.append(n)
    await s.flush()
    return rows


async def staff_emails(s: AsyncSession, group_id: int, roles: tuple[str, ...]) -> list[str]:
    rows = await group_store.members_of_group(s, group_id, roles=roles)
    return [u.email for _, u in rows if u.is_active]
