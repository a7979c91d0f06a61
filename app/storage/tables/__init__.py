"""All tables, imported here so SQLModel.metadata (and Alembic) sees every one."""

from sqlmodel import SQLModel

# Named constraints, so migrations can alter them on every backend (SQLite batch mode needs it).
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# isort: split
# ruff: noqa: E402  (the convention must be set before the tables are defined)

from app.storage.tables.accounts import LoginSession, User
from app.storage.tables.audit import AuditEntry
from app.storage.tables.escalations import (
    Escalation,
    GroupRiskThresholds,
    Notification,
    OrgRiskSettings,
)
from app.storage.tables.facilitation import Flag, MemberMute, MessageReport, RoomControl
from app.storage.tables.group_sessions import (
    AttendanceRecord,
    ConnectionInterval,
    GroupSession,
    GroupSettings,
    NoteAddendum,
    SessionNote,
)
from app.storage.tables.groups import AgreementAcceptance, Group, Invite, Membership, Organisation
from app.storage.tables.messages import Message, Room

__all__ = [
    "AgreementAcceptance",
    "AttendanceRecord",
    "AuditEntry",
    "ConnectionInterval",
    "Escalation",
    "Flag",
    "Group",
    "GroupRiskThresholds",
    "GroupSession",
    "GroupSettings",
    "Invite",
    "LoginSession",
    "MemberMute",
    "Membership",
    "Message",
    "MessageReport",
    "NoteAddendum",
    "Notification",
    "OrgRiskSettings",
    "Organisation",
    "Room",
    "RoomControl",
    "SessionNote",
    "User",
]
