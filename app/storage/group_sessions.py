"""Queries for group sessions, connection intervals, attendance records and notes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.storage.tables import (
    AttendanceRecord,
    ConnectionInterval,
    GroupSession,
    GroupSettings,
    NoteAddendum,
    SessionNote,
    User,
)


async def group_settings(s: AsyncSession, group_id: int) -> GroupSettings | None:
    return await s.get(GroupSettings, group_id)


async def session_by_id(s: AsyncSession, session_id: int) -> GroupSession | None:
    return await s.get(GroupSession, session_id)


async def sessions_of_group(
    s: AsyncSession,
    group_id: int,
    *,
    after: datetime | None = None,
    statuses: tuple[str, ...] | None = None,
    limit: int = 200,
    newest_first: bool = False,
) -> list[GroupSession]:
    q = select(GroupSession).where(GroupSession.group_id == group_id)
    if after is not None:
        q = q.where(GroupSession.scheduled_end > after)
    if statuses:
        q = q.where(col(GroupSession.status).in_(statuses))
    order = col(GroupSession.scheduled_start)
    q = q.order_by(order.desc() if newest_first else order).limit(limit)
    return list((await s.exec(q)).all())


async def live_session(s: AsyncSession, group_id: int) -> GroupSession | None:
    q = select(GroupSession).where(GroupSession.group_id == group_id, GroupSession.status == "live")
    return (await s.exec(q)).first()


async def live_sessions_ending_before(s: AsyncSession, cutoff: datetime) -> list[GroupSession]:
    q = select(GroupSession).where(
        GroupSession.status == "live", GroupSession.scheduled_end < cutoff
    )
    return list((await s.exec(q)).all())


async def intervals_overlapping(
    s: AsyncSession, room_id: int, start: datetime, end: datetime
) -> list[ConnectionInterval]:
    """Intervals that began by end and had not left before start."""
    q = select(ConnectionInterval).where(
        ConnectionInterval.room_id == room_id,
        ConnectionInterval.joined_at <= end,
        or_(col(ConnectionInterval.left_at).is_(None), col(ConnectionInterval.left_at) > start),
    )
    return list((await s.exec(q)).all())


async def close_interval(s: AsyncSession, interval_id: int, at: datetime) -> None:
    await s.exec(  # type: ignore[call-overload]
        update(ConnectionInterval)
        .where(ConnectionInterval.id == interval_id, col(ConnectionInterval.left_at).is_(None))
        .values(left_at=at, last_seen_at=at)
    )


async def close_intervals(s: AsyncSession, leaves: list[tuple[int, datetime]]) -> None:
    """close_interval for many, in one executemany."""
    stmt = (
        update(ConnectionInterval)
        .where(
            ConnectionInterval.id == bindparam("iid"),  # type: ignore[arg-type]
            col(ConnectionInterval.left_at).is_(None),
        )
        .values(left_at=bindparam("at"), last_seen_at=bindparam("at"))
    )
    conn = await s.connection()
    await conn.execute(stmt, [{"iid": iid, "at": at} for iid, at in leaves])


async def beat(s: AsyncSession, worker: str, at: datetime) -> None:
    await s.exec(  # type: ignore[call-overload]
        update(ConnectionInterval)
        .where(ConnectionInterval.worker == worker, col(ConnectionInterval.left_at).is_(None))
        .values(last_seen_at=at)
    )


async def records_of_session(
    s: AsyncSession, session_id: int
) -> list[tuple[AttendanceRecord, User]]:
    q = (
        select(AttendanceRecord, User)
        .join(User, col(User.id) == AttendanceRecord.user_id)
        .where(AttendanceRecord.session_id == session_id)
        .order_by(col(User.display_name))
    )
    return [(r, u) for r, u in (await s.exec(q)).all()]


async def records_of_user(
    s: AsyncSession, group_id: int, user_id: int
) -> list[tuple[AttendanceRecord, GroupSession]]:
    q = (
        select(AttendanceRecord, GroupSession)
        .join(GroupSession, col(GroupSession.id) == AttendanceRecord.session_id)
        .where(GroupSession.group_id == group_id, AttendanceRecord.user_id == user_id)
        .order_by(col(GroupSession.scheduled_start).desc())
    )
    return [(r, g) for r, g in (await s.exec(q)).all()]


async def record(s: AsyncSession, session_id: int, user_id: int) -> AttendanceRecord | None:
    q = select(AttendanceRecord).where(
        AttendanceRecord.session_id == session_id, AttendanceRecord.user_id == user_id
    )
    return (await s.exec(q)).first()


async def note_of_session(s: AsyncSession, session_id: int) -> SessionNote | None:
    q = select(SessionNote).where(SessionNote.session_id == session_id)
    return (await s.exec(q)).first()


async def addenda(s: AsyncSession, note_id: int) -> list[NoteAddendum]:
    q = select(NoteAddendum).where(NoteAddendum.note_id == note_id).order_by(col(NoteAddendum.id))
    return list((await s.exec(q)).all())


async def users_by_id(s: AsyncSession, ids: set[int]) -> dict[int, User]:
    if not ids:
        return {}
    rows = (await s.exec(select(User).where(col(User.id).in_(ids)))).all()
    return {u.id: u for u in rows}  # type: ignore[misc]
