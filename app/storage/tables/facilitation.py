"""Facilitator moderation: room controls, mutes, member reports and the flags panel."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel


class RoomControl(SQLModel, table=True):
    """Lock and slow mode of a room. No row means open and no slow mode."""

    __tablename__ = "room_controls"

    room_id: int = Field(foreign_key="rooms.id", primary_key=True)
    locked: bool = False
    slow_mode_seconds: int = 0
    # Always a person: no code path changes room controls without a human actor.
    updated_by: int = Field(foreign_key="users.id")
    updated_at: datetime


class MemberMute(SQLModel, table=True):
    """A facilitator's time-limited mute of one member in one group.

    Active while until > now and lifted_at is null. muted_by is NOT NULL: distress is never a
    violation, so the system itself never mutes anybody.
    """

    __tablename__ = "member_mutes"

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="groups.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    muted_by: int = Field(foreign_key="users.id")
    reason: str = Field(default="", max_length=500)
    created_at: datetime
    until: datetime
    lifted_at: datetime | None = None
    lifted_by: int | None = Field(default=None, foreign_key="users.id")


class MessageReport(SQLModel, table=True):
    """A member's report of a message. reporter_id is shown to facilitators and admins only."""

    __tablename__ = "message_reports"
    __table_args__ = (UniqueConstraint("message_id", "reporter_id"),)

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="messages.id", index=True)
    reporter_id: int = Field(foreign_key="users.id")
    reason: str = Field(default="", max_length=500)
    created_at: datetime


class Flag(SQLModel, table=True):
    """One item in a group's flags panel, written by reports (kind "report") and by the risk
    path (kind "risk", severity low | moderate | high). Never carries clinicians' notes."""

    __tablename__ = "flags"

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="groups.id", index=True)
    room_id: int = Field(foreign_key="rooms.id")
    kind: str = Field(max_length=20)  # report | risk
    severity: str = Field(default="", max_length=20)  # "" for reports; low | moderate | high
    message_id: int | None = Field(default=None, foreign_key="messages.id")
    # The member the flag is about (the message's author), never the reporter.
    member_id: int | None = Field(default=None, foreign_key="users.id")
    report_id: int | None = Field(default=None, foreign_key="message_reports.id")
    status: str = Field(default="open", max_length=20)  # open | resolved
    created_at: datetime
    resolved_at: datetime | None = None
    resolved_by: int | None = Field(default=None, foreign_key="users.id")
