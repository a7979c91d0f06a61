"""Queries for room controls, mutes, reports and flags."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.storage.tables import (
    Flag,
    MemberMute,
    Membership,
    Message,
    MessageReport,
    RoomControl,
    User,
)


async def room_control(s: AsyncSession, room_id: int) -> RoomControl | None:
    return await s.get(RoomControl, room_id, populate_existing=True)


async def active_mutes(
    s: AsyncSession, group_id: int, now: datetime, user_id: int | None = None
) -> list[MemberMute]:
    q = select(MemberMute).where(
        MemberMute.group_id == group_id,
        MemberMute.until > now,
        MemberMute.lifted_at.is_(None),  # type: ignore[union-attr]
    )
    if user_id is not None:
        q = q.where(MemberMute.user_id == user_id)
    return list((await s.exec(q.order_by(MemberMute.id))).all())  # type: ignore[arg-type]


async def last_message_at(s: AsyncSession, room_id: int, sender_id: int) -> datetime | None:
    q = (
        select(Message.created_at)
        .where(Message.room_id == room_id, Message.sender_id == sender_id)
        .order_by(Message.seq.desc())  # type: ignore[attr-defined]
        .limit(1)
    )
    return (await s.exec(q)).first()


async def message_by_seq(s: AsyncSession, room_id: int, seq: int) -> tuple[Message, User] | None:
    q = (
        select(Message, User)
        .join(User, User.id == Message.sender_id)  # type: ignore[arg-type]
        .where(Message.room_id == room_id, Message.seq == seq)
    )
    row = (await s.exec(q)).first()
    return (row[0], row[1]) if row else None


async def report_by(s: AsyncSession, message_id: int, reporter_id: int) -> MessageReport | None:
    q = select(MessageReport).where(
        MessageReport.message_id == message_id, MessageReport.reporter_id == reporter_id
    )
    return (await s.exec(q)).first()


async def facilitator_ids(s: AsyncSession, group_id: int) -> list[int]:
    q = select(Membership.user_id).where(
        Membership.group_id == group_id,
        Membership.role == "facilitator",
        Membership.status == "active",
    )
    return list((await s.exec(q)).all())


async def flags_of_room(s: AsyncSession, room_id: int, status: str | None) -> list[Flag]:
    q = select(Flag).where(Flag.room_id == room_id)
    if status:
        q = q.where(Flag.status == status)
    return list((await s.exec(q.order_by(Flag.id.desc()).limit(200))).all())  # type: ignore[union-attr]


async def flag_by_id(s: AsyncSession, flag_id: int) -> Flag | None:
    return await s.get(Flag, flag_id)


async def report_by_id(s: AsyncSession, report_id: int) -> MessageReport | None:
    return await s.get(MessageReport, report_id)


async def message_with_sender(s: AsyncSession, message_id: int) -> tuple[Message, User] | None:
    q = (
        select(Message, User)
        .join(User, User.id == Message.sender_id)  # type: ignore[arg-type]
        .where(Message.id == message_id)
    )
    row = (await s.exec(q)).first()
    return (row[0], row[1]) if row else None


async def users_by_id(s: AsyncSession, ids: set[int]) -> dict[int, User]:
    if not ids:
        return {}
    rows = await s.exec(select(User).where(User.id.in_(ids)))  # type: ignore[union-attr]
    return {u.id: u for u in rows.all()}  # type: ignore[misc]
