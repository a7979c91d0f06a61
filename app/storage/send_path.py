"""The common send as one synchronous unit of work: a benign message from an active member in
an open room, stored with three statements (one read, the counter, the insert).

It runs as a single call on the database's writer (app.storage.database.Database.run_sync): on
SQLite one hop to a dedicated thread per message instead of one per cursor call; on PostgreSQL
the same statements through asyncpg. Anything out of the ordinary (a resend, a removed member,
a lock, mute, slow mode or closed room, any risk cue) stores nothing here and is answered by
the full path in app.messages, so the rules live in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import Connection, bindparam, text

from app.storage.tables import Message

RECENT_CONTEXT = 3  # the sender's last messages given to the risk engine (as app.risk did)
STAFF_ROLES = frozenset({"facilitator", "clinician"})

# Plain SQL, built once: a Core select of a dozen subqueries costs more CPU to build and to
# key for the compiled cache (~1 ms) than SQLite takes to run it. Portable to PostgreSQL.
_AT = Message.__table__.c.created_at.type  # type: ignore[attr-defined]
_SENDER_IN_ROOM = "FROM messages WHERE room_id = :room AND sender_id = :user ORDER BY seq DESC"
_CHECKS = (
    text(
        "SELECT"
        " (SELECT id FROM messages WHERE sender_id = :user AND client_id = :client_id) AS existing,"
        " (SELECT status FROM memberships WHERE group_id = :grp AND user_id = :user) AS status,"
        " (SELECT role FROM memberships WHERE group_id = :grp AND user_id = :user) AS role,"
        " (SELECT locked FROM room_controls WHERE room_id = :room) AS locked,"
        " (SELECT slow_mode_seconds FROM room_controls WHERE room_id = :room) AS slow,"
        " (SELECT count(*) FROM member_mutes WHERE group_id = :grp AND user_id = :user"
        '   AND "until" > :now AND lifted_at IS NULL) AS mutes,'
        " (SELECT room_open_policy FROM group_settings WHERE group_id = :grp) AS policy,"
        " (SELECT count(*) FROM group_sessions WHERE group_id = :grp AND status = 'live')"
        "   AS live,"
        f" (SELECT created_at {_SENDER_IN_ROOM} LIMIT 1) AS last_at,"
        + ",".join(
            f" (SELECT body {_SENDER_IN_ROOM} LIMIT 1 OFFSET {i}) AS body{i}"
            for i in range(RECENT_CONTEXT)
        )
    )
    .bindparams(bindparam("now", type_=_AT))
    .columns(last_at=_AT)
)
_NEXT_SEQ = text("UPDATE rooms SET last_seq = last_seq + 1 WHERE id = :room RETURNING last_seq")
_INSERT = text(
    "INSERT INTO messages (room_id, seq, sender_id, client_id, body, status, created_at)"
    " VALUES (:room, :seq, :user, :client_id, :body, 'visible', :now) RETURNING id"
).bindparams(bindparam("now", type_=_AT))


class Detour(Enum):
    """Why the common path stored nothing."""

    FULL_PATH = "full_path"  # app.messages decides (and refuses, holds or escalates)
    CLOSED_UNLESS_FACILITATOR = "closed"  # live_only room, no live session: ask presence


@dataclass(frozen=True)
class PlainSend:
    room_id: int
    room_kind: str
    group_id: int
    sender_id: int
    sender_is_staff: bool  # as at connect, like app.risk.screen and the closed-room rule
    client_id: str
    body: str
    now: datetime
    room_confirmed_open: bool = False  # a facilitator is present (checked by the caller)


@dataclass(frozen=True)
class Stored:
    id: int
    seq: int


def store_plain(
    conn: Connection, req: PlainSend, benign: Callable[[str, tuple[str, ...]], bool]
) -> Stored | Detour:
    """Store the message if it is the common case; otherwise store nothing and say why.
    `benign(body, recent)` is the risk engine's verdict: True only for severity none."""
    params = {
        "room": req.room_id,
        "grp": req.group_id,
        "user": req.sender_id,
        "client_id": req.client_id,
        "now": req.now,
    }
    row = conn.execute(_CHECKS, params).one()
    if row.existing is not None or row.status != "active":
        return Detour.FULL_PATH
    if req.room_kind == "group" and row.role not in STAFF_ROLES:
        if row.locked or row.mutes:
            return Detour.FULL_PATH
        if row.slow and row.last_at is not None:
            if timedelta(seconds=row.slow) > req.now - row.last_at:
                return Detour.FULL_PATH
    if req.room_kind == "group" and not req.sender_is_staff:
        if row.policy == "live_only" and not row.live and not req.room_confirmed_open:
            return Detour.CLOSED_UNLESS_FACILITATOR
    if not req.sender_is_staff:
        recent = tuple(b for b in (row.body2, row.body1, row.body0) if b is not None)
        if not benign(req.body, recent):
            return Detour.FULL_PATH
    seq = conn.execute(_NEXT_SEQ, params).scalar_one()
    new_id = conn.execute(_INSERT, {**params, "seq": seq, "body": req.body}).scalar_one()
    return Stored(id=int(new_id), seq=int(seq))
