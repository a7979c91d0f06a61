from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisations.id", index=True)
    # Email is private to staff; other members only ever see display_name.
    email: str = Field(max_length=320, unique=True)
    display_name: str = Field(max_length=60)
    password_hash: str = Field(max_length=255)
    is_admin: bool = False
    is_active: bool = True
    credential: str = Field(default="", max_length=80)
    created_at: datetime


class LoginSession(SQLModel, table=True):
    """Server-side session: revocable at logout and deactivation, unlike a signed cookie."""

    __tablename__ = "login_sessions"

    id: int | None = Field(default=None, primary_key=True)
    # Only a hash of the cookie token is stored, so a database leak does not leak sessions.
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime
    last_seen_at: datetime
    revoked_at: datetime | None = None
