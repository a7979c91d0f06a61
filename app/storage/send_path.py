"""The common send as one synchronous unit of work: a benign message from an active member in
an open room, stored with three statements (one read, the counter, the insert).

It runs as a single call on the database's writer (app.storage.database.Database.run_sync): on
SQLite one hop to a dedicated thread per message instead of one per cursor call; on PostgreSQL
the same statements through asyncpg. Anything out of the ordinary (a resend, a removed member,
a lock, mute, slow mode or closed room, any risk cue) stores nothing here and is answered by
the full path in app.messages, so the rules live in one place.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, NamedTuple

import asyncpg
from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.exc import IntegrityError

from app.storage.pg_direct import numbered
from app.storage.tables import Message

RECENT_CONTEXT = 3  # the sender's last messages given to the risk engine (as app.risk did)
STAFF_ROLES = frozenset({"facilitator", "clinician"})

# Plain SQL, built once: a Core select of a dozen subqueries costs more CPU to build and to
# key for the compiled cache (~1 ms) than SQLite takes to run it. Portable to PostgreSQL.
_AT = Message.__table__.c.created_at.type  # type: ignore[attr-defined]
_SENDER_IN_ROOM = "FROM messages WHERE room_id = :room AND sender_id = :user ORDER BY seq DESC"
_CHECKS_SQL = (
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
_CHECKS = text(_CHECKS_SQL).bindparams(bindparam("now", type_=_AT)).columns(last_at=_AT)
_NEXT_SEQ = text("UPDATE rooms SET last_seq = last_seq + 1 WHERE id = :room RETURNING last_seq")
_INSERT = text(
    "INSERT INTO messages (room_id, seq, sender_id, client_id, body, status, created_at)"
    " VALUES (:room, :seq, :user, :client_id, :body, 'visible', :now) RETURNING id"
).bindparams(bindparam("now", type_=_AT))


class _Checks(NamedTuple):  # the columns of _CHECKS, in order
    existing: int | None
    status: str | None
    role: str | None
    locked: Any
    slow: int | None
    mutes: int
    policy: str | None
    live: int
    last_at: datetime | None
    body0: str | None
    body1: str | None
    body2: str | None


assert _Checks._fields == tuple(re.findall(r"AS (\w+)", _CHECKS_SQL)), "keep in step"


def sqlite_at(value: datetime) -> str:
    """A created_at as SQLAlchemy stores it on SQLite (UTCDateTime: UTC, no offset, always
    microseconds), built directly: SQLAlchemy's bind processors cost ~4 µs a value, a few
    percent of a message's CPU on the thread that stores every message."""
    if value.utcoffset() is None:
        raise ValueError("created_at must be timezone-aware")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def sqlite_read_at(value: str) -> datetime:
    """The reverse of sqlite_at, as SQLAlchemy reads UTCDateTime back (aware, UTC)."""
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


class _CoreStatements:
    """The unit's statements through SQLAlchemy (PostgreSQL through asyncpg)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def checks(self, params: dict[str, Any]) -> _Checks:
        return _Checks(*self._conn.execute(_CHECKS, params).one())

    def scalar(self, stmt: Any, params: dict[str, Any]) -> Any:
        return self._conn.execute(stmt, params).scalar_one()


class _RawSqliteStatements:
    """The same SQL straight on the sqlite3 connection (it takes the same :name parameters).
    SQLAlchemy's execution context for three small statements cost more CPU than SQLite
    takes to run them, on the thread every message goes through."""

    def __init__(self, conn: Connection) -> None:
        raw = conn.connection.driver_connection
        assert isinstance(raw, sqlite3.Connection)
        self._raw = raw
        self._now: tuple[datetime, str] | None = None  # the unit's time, bound once

    def _params(self, params: dict[str, Any]) -> dict[str, Any]:
        now = params["now"]
        if self._now is None or self._now[0] is not now:
            self._now = (now, sqlite_at(now))
        return {**params, "now": self._now[1]}

    def checks(self, params: dict[str, Any]) -> _Checks:
        row = self._raw.execute(_CHECKS_SQL, self._params(params)).fetchone()
        last_at = sqlite_read_at(row[8]) if row[8] is not None else None
        return _Checks(*row[:8], last_at, *row[9:])

    def scalar(self, stmt: Any, params: dict[str, Any]) -> Any:
        try:
            return self._raw.execute(stmt.text, self._params(params)).fetchone()[0]
        except sqlite3.IntegrityError as exc:  # callers handle SQLAlchemy's, as on PostgreSQL
            raise IntegrityError(stmt.text, params, exc) from exc


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


def _params(req: PlainSend) -> dict[str, Any]:
    return {
        "room": req.room_id,
        "grp": req.group_id,
        "user": req.sender_id,
        "client_id": req.client_id,
        "now": req.now,
    }


def _decide(
    req: PlainSend, row: _Checks, benign: Callable[[str, tuple[str, ...]], bool]
) -> Detour | None:
    """None: store it here. Otherwise why the full path (or presence) has to decide."""
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
    return None


def store_plain(
    conn: Connection, req: PlainSend, benign: Callable[[str, tuple[str, ...]], bool]
) -> Stored | Detour:
    """Store the message if it is the common case; otherwise store nothing and say why.
    `benign(body, recent)` is the risk engine's verdict: True only for severity none."""
    params = _params(req)
    sql = _RawSqliteStatements(conn) if conn.dialect.name == "sqlite" else _CoreStatements(conn)
    detour = _decide(req, sql.checks(params), benign)
    if detour is not None:
        return detour
    seq = sql.scalar(_NEXT_SEQ, params)
    new_id = sql.scalar(_INSERT, {**params, "seq": seq, "body": req.body})
    return Stored(id=int(new_id), seq=int(seq))


# --- PostgreSQL: the same unit straight on asyncpg (app.storage.pg_direct) -------------------


_PG_CHECKS = numbered(_CHECKS_SQL)
# Counter and insert in one statement, so one implicit transaction: the room row is locked
# from the UPDATE to the commit of this statement only (two workers' sends to a room queue
# for microseconds, not for round trips), the id is gap-free (a failed insert rolls the
# counter back with it), and the reply comes after the commit.
_PG_STORE = numbered(
    "WITH next AS (UPDATE rooms SET last_seq = last_seq + 1 WHERE id = :room RETURNING last_seq)"
    " INSERT INTO messages (room_id, seq, sender_id, client_id, body, status, created_at)"
    " SELECT :room, next.last_seq, :user, :client_id, :body, 'visible', :now FROM next"
    " RETURNING id, seq"
)
_PG_AT = _AT.dialect_impl(asyncpg_dialect.dialect())
_pg_bind_at = _PG_AT.bind_processor(asyncpg_dialect.dialect()) or (lambda v: v)
_pg_read_at = _PG_AT.result_processor(asyncpg_dialect.dialect(), None) or (lambda v: v)


def _pg_args(stmt: tuple[str, tuple[str, ...]], params: dict[str, Any]) -> list[Any]:
    return [_pg_bind_at(params[n]) if n == "now" else params[n] for n in stmt[1]]


async def store_plain_pg(
    conn: asyncpg.Connection, req: PlainSend, benign: Callable[[str, tuple[str, ...]], bool]
) -> Stored | Detour:
    """store_plain on PostgreSQL in two round trips, each statement its own transaction. The
    checks read committed data as before (under READ COMMITTED every statement of the old
    transaction took its own snapshot too)."""
    params = {**_params(req), "body": req.body}
    row = await conn.fetchrow(_PG_CHECKS[0], *_pg_args(_PG_CHECKS, params))
    assert row is not None
    last_at = _pg_read_at(row[8]) if row[8] is not None else None
    detour = _decide(req, _Checks(*row[:8], last_at, *row[9:]), benign)
    if detour is not None:
        return detour
    stored = await conn.fetchrow(_PG_STORE[0], *_pg_args(_PG_STORE, params))
    if stored is None:
        raise LookupError(f"room {req.room_id} does not exist")
    return Stored(id=int(stored[0]), seq=int(stored[1]))


# Database.run_sync runs this instead of store_plain on PostgreSQL (same arguments, same result).
store_plain.on_asyncpg = store_plain_pg  # type: ignore[attr-defined]
