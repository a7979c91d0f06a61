from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel


class Organisation(SQLModel, table=True):
    __tablename__ = "organisations"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    created_at: datetime


class Group(SQLModel, table=True):
    __tablename__ = "groups"

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisations.id", index=True)
    name: str = Field(max_length=120)
    description: str = ""
    agreements: str = ""
    # Bumped whenever the agreements text changes; members must accept the new version.
    agreements_version: int = 1
    created_at: datetime


class Membership(SQLModel, table=True):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("group_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="groups.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    role: str = Field(max_length=20)  # member | facilitator | clinician
    status: str = Field(default="active", max_length=20)  # active | removed
    accepted_version: int = 0
    accepted_at: datetime | None = None
    created_at: datetime


class AgreementAcceptance(SQLModel, table=True):
    """Every acceptance kept, so we can show which text a member agreed to and when."""

    __tablename__ = "agreement_acceptances"

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="groups.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    version: int
    accepted_at: datetime


class Invite(SQLModel, table=True):
    __tablename__ = "invites"

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="groups.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    role: str = Field(default="member", max_length=20)
    expires_at: datetime
    single_use: bool = False
    uses: int = 0
    revoked: bool = False
    created_by: int = Field(foreign_key="users.id")
    created_at: datetime
