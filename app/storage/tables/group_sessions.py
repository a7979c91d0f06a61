"""Group meetings, who was connected when, and the notes that make a session billable.

"Session" alone means a sign-in session (LoginSession); a group meeting is a GroupSession.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel


class GroupSettings(SQLModel, table=True):
    """Per-group settings kept off the foundation's groups table."""

    __tablename__ = "group_settings"

    group_id: int = Field(foreign_key="groups.id", primary_key=True)
    timezone: str = Field(max_length=64)
    # always | live_only: open for chat only while a session is live or a facilitator is present
    room_open_policy: str = Field(default="always", max_length=20)
    updated_at: datetime


class GroupSession(SQLModel, table=True):
    __tablename__ = "group_sessions"
    __table_args__ = (Index("ix_group_sessions_group_start", "group_id", "scheduled_start"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="groups.id")
    # Occurrences of one weekly schedule share a series id (empty for a one-off).
    series: str = Field(default="", max_length=32)
    topic: str = Field(default="", max_length=200)
    max_size: int = 12
    scheduled_start: datetime
    scheduled_end: datetime
    status: str = Field(default="scheduled", max_length=20)  # scheduled|live|ended|cancelled
    started_at: datetime | None = None
    started_by: int | None = Field(default=None, foreign_key="users.id")
    ended_at: datetime | None = None
    ended_by: int | None = Field(default=None, foreign_key="users.id")
    created_by: int = Field(foreign_key="users.id")
    created_at: datetime


class ConnectionInterval(SQLModel, table=True):
    """One WebSocket connection to a group room: joined, left (or last heartbeat)."""

    __tablename__ = "connection_intervals"
    __table_args__ = (Index("ix_connection_intervals_room_joined", "room_id", "joined_at"),)

    id: int | None = Field(default=None, primary_key=True)
    room_id: int = Field(foreign_key="rooms.id")
    group_id: int = Field(foreign_key="groups.id")
    user_id: int = Field(foreign_key="users.id", index=True)
    role: str = Field(max_length=20)
    # The process holding the socket; its heartbeat refreshes last_seen_at while it lives.
    worker: str = Field(max_length=32, index=True)
    joined_at: datetime
    last_seen_at: datetime
    left_at: datetime | None = None


class AttendanceRecord(SQLModel, table=True):
    """Frozen when a session ends, so reports and billing never move afterwards."""

    __tablename__ = "attendance_records"
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="group_sessions.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    role: str = Field(max_length=20)
    first_joined_at: datetime | None = None
    last_left_at: datetime | None = None
    minutes: int = 0
    status: str = Field(max_length=20)  # attended | partial | missed | excused
    excused_reason: str = Field(default="", max_length=200)


class SessionNote(SQLModel, table=True):
    """Editable until signed; afterwards corrections are addenda."""

    __tablename__ = "session_notes"

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="group_sessions.id", unique=True)
    author_id: int = Field(foreign_key="users.id")
    topic: str = Field(default="", max_length=200)
    narrative: str = ""  # what was done
    response: str = ""  # how members responded
    plan: str = ""
    signed_by: int | None = Field(default=None, foreign_key="users.id")
    signer_name: str = Field(default="", max_length=60)
    signer_credential: str = Field(default="", max_length=80)
    signed_at: datetime | None = None
    updated_at: datetime


class NoteAddendum(SQLModel, table=True):
    __tablename__ = "session_note_addenda"

    id: int | None = Field(default=None, primary_key=True)
    note_id: int = Field(foreign_key="session_notes.id", index=True)
    author_id: int = Field(foreign_key="users.id")
    signer_name: str = Field(max_length=60)
    signer_credential: str = Field(default="", max_length=80)
    body: str
    signed_at: datetime
