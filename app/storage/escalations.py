"""Queries for escalations, the notification outbox and the risk settings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.storage.tables import (
    Escalation,
    GroupRiskThresholds,
    Membership,
    Message,
    Notification,
    OrgRiskSettings,
    Room,
    User,
)


async def thresholds(s: AsyncSession, group_id: int) -> GroupRiskThresholds:
    row = await s.get(GroupRiskThresholds, group_id)
    return row or GroupRiskThresholds(group_id=group_id)


async def org_settings(s: AsyncSession, org_id: int) -> OrgRiskSettings:
    row = await s.get(OrgRiskSettings, org_id)
    return row or OrgRiskSettings(org_id=org_id)


async def recent_bodies(
    s: AsyncSession, room_id: int, sender_id: int, before_seq: int
) -> list[str]:
    """The sender's last few messages in the room, oldest first (context for the engine)."""
    q = (
        select(Message.body)
        .where(Message.room_id == room_id, Message.sender_id == sender_id)
        .where(Message.seq < before_seq)
        .order_by(Message.seq.desc())  # type: ignore[attr-defined]
        .limit(3)
    )
    rows = list((await s.exec(q)).all())
    rows.reverse()
    return rows


async def escalation(s: AsyncSession, escalation_id: int) -> Escalation | None:
    return await s.get(Escalation, escalation_id, populate_existing=True)


async def escalation_for_message(s: AsyncSession, message_id: int) -> Escalation | None:
    return (await s.exec(select(Escalation).where(Escalation.message_id == message_id))).first()


async def open_queue(s: AsyncSession, group_ids: list[int]) -> list[tuple[Escalation, User]]:
    if not group_ids:
        return []
    q = (
        select(Escalation, User)
        .join(User, User.id == Escalation.member_id)  # type: ignore[arg-type]
        .where(Escalation.group_id.in_(group_ids), Escalation.state != "resolved")  # type: ignore[attr-defined]
    )
    return [(e, u) for e, u in (await s.exec(q)).all()]


async def member_history(
    s: AsyncSession, group_id: int, member_id: int, exclude_id: int
) -> list[Escalation]:
    q = (
        select(Escalation)
        .where(Escalation.group_id == group_id, Escalation.member_id == member_id)
        .where(Escalation.id != exclude_id)
        .order_by(Escalation.opened_at.desc())  # type: ignore[attr-defined]
        .limit(50)
    )
    return list((await s.exec(q)).all())


async def messages_around(
    s: AsyncSession, room_id: int, seq: int, span: int
) -> list[tuple[Message, User]]:
    q = (
        select(Message, User)
        .join(User, User.id == Message.sender_id)  # type: ignore[arg-type]
        .where(Message.room_id == room_id)
        .where(Message.seq >= seq - span, Message.seq <= seq + span)
        .order_by(Message.seq)  # type: ignore[arg-type]
    )
    return [(m, u) for m, u in (await s.exec(q)).all()]


async def private_room(s: AsyncSession, group_id: int, member_id: int) -> Room | None:
    q = select(Room).where(
        Room.group_id == group_id, Room.kind == "private", Room.member_id == member_id
    )
    return (await s.exec(q)).first()


async def private_rooms_of_member(s: AsyncSession, member_id: int) -> list[Room]:
    q = (
        select(Room)
        .join(Membership, Membership.group_id == Room.group_id)  # type: ignore[arg-type]
        .where(Room.kind == "private", Room.member_id == member_id)
        .where(Membership.user_id == member_id, Membership.status == "active")
        .order_by(Room.id)  # type: ignore[arg-type]
    )
    return list((await s.exec(q)).all())


async def due_notifications(s: AsyncSession, now: datetime, limit: int) -> list[Notification]:
    q = (
        select(Notification)
        .where(Notification.status == "pending", Notification.next_attempt_at <= now)
        .order_by(Notification.next_attempt_at, Notification.id)  # type: ignore[arg-type]
        .limit(limit)
    )
    return list((await s.exec(q)).all())


async def claim_notification(
    s: AsyncSession, n: Notification, now: datetime, lease_until: datetime
) -> bool:
    """Push the row's next attempt past the send, so another worker does not send it too
    (at-least-once: if this worker dies mid-send, the lease runs out and it is sent again)."""
    result = await s.exec(  # type: ignore[call-overload]
        update(Notification)
        .where(
            Notification.id == n.id,
            Notification.status == "pending",
            Notification.next_attempt_at == n.next_attempt_at,
        )
        .values(next_attempt_at=lease_until)
    )
    return bool(result.rowcount == 1)


async def notification(s: AsyncSession, notification_id: int) -> Notification | None:
    return await s.get(Notification, notification_id, populate_existing=True)


async def failed_notifications(s: AsyncSession, org_id: int) -> list[Notification]:
    q = (
        select(Notification)
        .where(Notification.org_id == org_id, Notification.status == "failed")
        .order_by(Notification.id.desc())  # type: ignore[union-attr]
        .limit(200)
    )
    return list((await s.exec(q)).all())


async def notifications_of(s: AsyncSession, escalation_id: int) -> list[Notification]:
    q = (
        select(Notification)
        .where(Notification.escalation_id == escalation_id)
        .order_by(Notification.id)  # type: ignore[arg-type]
    )
    return list((await s.exec(q)).all())


async def due_ladder(s: AsyncSession, now: datetime) -> list[Escalation]:
    q = (
        select(Escalation)
        .where(Escalation.state == "open", Escalation.next_deadline_at <= now)  # type: ignore[operator]
        .order_by(Escalation.next_deadline_at)  # type: ignore[arg-type]
    )
    return list((await s.exec(q)).all())


async def climb(s: AsyncSession, esc: Escalation, next_deadline: datetime | None) -> bool:
    """Move the ladder one step, once, even with several dispatchers racing."""
    result = await s.exec(  # type: ignore[call-overload]
        update(Escalation)
        .where(
            Escalation.id == esc.id,
            Escalation.state == "open",
            Escalation.ladder_step == esc.ladder_step,
        )
        .values(ladder_step=esc.ladder_step + 1, next_deadline_at=next_deadline)
    )
    return bool(result.rowcount == 1)


async def all_escalations(s: AsyncSession) -> list[Escalation]:
    return list((await s.exec(select(Escalation).order_by(Escalation.id))).all())  # type: ignore[arg-type]


async def all_opened_notifications(s: AsyncSession) -> list[tuple[Notification, Escalation]]:
    q = (
        select(Notification, Escalation)
        .join(Escalation, Escalation.id == Notification.escalation_id)  # type: ignore[arg-type]
        .where(Notification.reason == "opened", Notification.status == "sent")
    )
    return [(n, e) for n, e in (await s.exec(q)).all()]
