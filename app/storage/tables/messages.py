from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel


class Room(SQLModel, table=True):
    __tablename__ = "rooms"

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="groups.id", index=True)
    kind: str = Field(default="group", max_length=20)  # group | private
    # For a private room: the member it is with (the group's clinicians are the other side).
    member_id: int | None = Field(default=None, foreign_key="users.id")
    # Per-room message counter: incremented under the row lock in the sending transaction,
    # so ids are strictly increasing and gap-free on every backend and across workers.
    last_seq: int = 0
    created_at: datetime


class Message(SQLModel, table=True):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("room_id", "seq"),  # also the index of backlogs and room heads
        UniqueConstraint("sender_id", "client_id"),  # also the index of a sender's messages
        # A sender's latest messages in a room, read at every send (slow mode, risk context).
        Index("ix_messages_room_sender_seq", "room_id", "sender_id", "seq"),
    )

    id: int | None = Field(default=None, primary_key=True)
    room_id: int = Field(foreign_key="rooms.id")
    seq: int
    sender_id: int = Field(foreign_key="users.id")
    client_id: str = Field(max_length=64)
    body: str
    # visible | held (imminent risk, shown to sender and staff only) | hidden (by a facilitator)
    status: str = Field(default="visible", max_length=20)
    created_at: datetime
