"""Queries for users and login sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.storage.tables import LoginSession, User


async def user_by_email(s: AsyncSession, email: str) -> User | None:
    return (await s.exec(select(User).where(User.email == email))).first()


async def user_by_id(s: AsyncSession, user_id: int) -> User | None:
    return await s.get(User, user_id)


async def add(s: AsyncSession, row: object) -> None:
    s.add(row)
    await s.flush()


async def session_by_token_hash(s: AsyncSession, token_hash: str) -> LoginSession | None:
    return (await s.exec(select(LoginSession).where(LoginSession.token_hash == token_hash))).first()


async def touch_session(s: AsyncSession, session_id: int, at: datetime) -> None:
    await s.exec(  # type: ignore[call-overload]
        update(LoginSession).where(LoginSession.id == session_id).values(last_seen_at=at)
    )


async def revoke_session(s: AsyncSession, session_id: int, at: datetime) -> None:
    await s.exec(  # type: ignore[call-overload]
        update(LoginSession)
        .where(LoginSession.id == session_id, LoginSession.revoked_at.is_(None))  # type: ignore[union-attr]
        .values(revoked_at=at)
    )


async def revoke_user_sessions(s: AsyncSession, user_id: int, at: datetime) -> None:
    await s.exec(  # type: ignore[call-overload]
        update(LoginSession)
        .where(LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None))  # type: ignore[union-attr]
        .values(revoked_at=at)
    )


async def users_of_org(s: AsyncSession, org_id: int) -> list[User]:
    return list((await s.exec(select(User).where(User.org_id == org_id).order_by(User.id))).all())
