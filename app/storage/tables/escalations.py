"""Escalations, their notification outbox, and the per-organisation / per-group risk settings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel


class Escalation(SQLModel, table=True):
    """A message a clinician must look at. kind "escalation" (high, imminent) runs the ladder;
    kind "review" (moderate, or the engine failed) waits in the review queue without one."""

    __tablename__ = "escalations"
    __table_args__ = (UniqueConstraint("message_id"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisations.id", index=True)
    group_id: int = Field(foreign_key="groups.id", index=True)
    room_id: int = Field(foreign_key="rooms.id")
    message_id: int = Field(foreign_key="messages.id")
    member_id: int = Field(foreign_key="users.id", index=True)
    kind: str = Field(max_length=20)  # escalation | review
    severity: str = Field(max_length=20)  # moderate | high | imminent | unassessed
    emergency: bool = False
    categories: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    rules: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The engine's whole assessment (spans, cues, rule names): shown on the escalation page.
    assessment: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    state: str = Field(default="open", max_length=20, index=True)
    opened_at: datetime
    acknowledged_by: int | None = Field(default=None, foreign_key="users.id")
    acknowledged_at: datetime | None = None
    contacted_by: int | None = Field(default=None, foreign_key="users.id")
    contacted_at: datetime | None = None
    resolved_by: int | None = Field(default=None, foreign_key="users.id")
    resolved_at: datetime | None = None
    outcome: str = Field(default="", max_length=40)
    note: str = ""
    # The ladder: how many timeouts have fired, and when the next one fires (None: stopped).
    ladder_step: int = 0
    next_deadline_at: datetime | None = Field(default=None, index=True)


class Notification(SQLModel, table=True):
    """The outbox: written in the transaction that needs it, sent at least once by the
    dispatcher, retried with backoff, marked failed (and shown to admins) when it gives up."""

    __tablename__ = "notifications"

    id: int | None = Field(default=None, primary_key=True)
    escalation_id: int = Field(foreign_key="escalations.id", index=True)
    org_id: int = Field(foreign_key="organisations.id", index=True)
    channel: str = Field(max_length=20)  # email | webhook
    recipient: str = Field(max_length=500)
    reason: str = Field(max_length=20)  # opened | reminder | backup | admin
    severity: str = Field(max_length=20)
    status: str = Field(default="pending", max_length=20, index=True)  # pending|sent|failed
    attempts: int = 0
    next_attempt_at: datetime = Field(index=True)
    last_error: str = Field(default="", max_length=500)
    created_at: datetime
    sent_at: datetime | None = None


class OrgRiskSettings(SQLModel, table=True):
    """Per-organisation overrides; a missing row or empty field means the defaults."""

    __tablename__ = "org_risk_settings"

    org_id: int = Field(foreign_key="organisations.id", primary_key=True)
    crisis_resources: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    ack_timeout_minutes: int | None = None
    backup_emails: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class GroupRiskThresholds(SQLModel, table=True):
    """Per-group severity at which each response starts; a missing row means the defaults."""

    __tablename__ = "group_risk_thresholds"

    group_id: int = Field(foreign_key="groups.id", primary_key=True)
    checkin_at: str = Field(default="low", max_length=20)
    review_at: str = Field(default="moderate", max_length=20)
    escalate_at: str = Field(default="high", max_length=20)
    hold_at: str = Field(default="imminent", max_length=20)
