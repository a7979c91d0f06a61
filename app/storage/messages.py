"""Queries for rooms and messages."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.storage.tables import Message, Room, User


async def room_by_id(s: AsyncSession, room_id: int) -> Room | None:
    return await s.get(Room, room_id)


async def next_seq(s: AsyncSession, room_id: int) -> int:
    """Claim the room's next message id. The row lock it takes serialises senders per room,
    and a rolled-back transaction gives its number back, so ids never skip."""
    result = await s.exec(  # type: ignore[call-overload]
        update(Room)
        .where(Room.id == room_id)
        .values(last_seq=Room.last_seq + 1)
        .returning(Room.last_seq)
    )
    return int(result.scalar_one())


async def message_by_client_id(s: AsyncSession, sender_id: int, client_id: str) -> Message | None:
    q = select(Message).where(Message.sender_id == sender_id, Message.client_id == client_id)
    return (await s.exec(q)).first()


async def messages_after(
    s: AsyncSession, room_id: int, after_seq: int, limit: int
) -> list[tuple[Message, User]]:
    q = (
        select(Message, User)
        .join(User, User.id == Message.sender_id)  # type: ignore[arg-type]
        .where(Message.room_id == room_id, Message.seq > after_seq)
        .order_by(Message.seq)  # type: ignore[arg-type]
        .limit(limit)
    )
    return [(m, u) for m, u in (await s.exec(q)).all()]


async def latest_messages(s: AsyncSession, room_id: int, limit: int) -> list[tuple[Message, User]]:
    q = (
        select(Message, User)
        .join(User, User.id == Message.sender_id)  # type: ignore[arg-type]
        .where(Message.room_id == room_id)
        .order_by(Message.seq.desc())  # type: ignore[attr-defined]
        .limit(limit)
    )
    rows = [(m, u) for m, u in (await s.exec(q)).all()]
    rows.reverse()
    return rows


async def room_last_seq(s: AsyncSession, room_id: int) -> int:
    room = await s.get(Room, room_id, populate_existing=True)
    return room.last_seq if room else 0
