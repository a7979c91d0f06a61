"""The reads of a WebSocket handshake, as two units of work (app.handshake).

Before accept: the session, its user, the room, its group and her membership, in one
statement. After the socket is registered for live frames: the messages she missed (with
each sender's name and role) and the room's controls, in one unit. Each unit runs through
`Database.read`: one transaction through SQLAlchemy, or on PostgreSQL straight on a raw
asyncpg connection (app.storage.pg_direct), a statement per round trip and no pool checkout.
Through SQLAlchemy a handshake was seven transactions, and a thousand sockets reconnecting at
once waited 30 s for the pool and failed (docs/performance.md).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, NamedTuple

import asyncpg
from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from app.storage.tables import LoginSession

_AT = LoginSession.__table__.c.created_at.type  # type: ignore[attr-defined]


class Admission(NamedTuple):
    """A session and, when the room exists, the room, its group and her membership there."""

    session_id: int
    user_id: int
    created_at: datetime
    last_seen_at: datetime
    revoked_at: datetime | None
    user_active: bool
    user_name: str
    room_id: int | None
    room_kind: str | None
    group_id: int | None
    room_member_id: int | None
    room_last_seq: int | None
    org_id: int | None
    agreements_version: int | None
    role: str | None
    status: str | None
    accepted_version: int | None


_ADMISSION_SQL = (
    "SELECT s.id, s.user_id, s.created_at, s.last_seen_at, s.revoked_at,"
    " u.is_active, u.display_name,"
    " r.id, r.kind, r.group_id, r.member_id, r.last_seq,"
    " g.org_id, g.agreements_version,"
    " m.role, m.status, m.accepted_version"
    " FROM login_sessions s JOIN users u ON u.id = s.user_id"
    " LEFT JOIN rooms r ON r.id = :room"
    " LEFT JOIN groups g ON g.id = r.group_id"
    " LEFT JOIN memberships m ON m.group_id = r.group_id AND m.user_id = s.user_id"
    " WHERE s.token_hash = :token_hash"
)


class Missed(NamedTuple):
    """One message after the resume point, with what its frame shows of the sender."""

    id: int
    seq: int
    sender_id: int
    client_id: str
    body: str
    status: str
    created_at: datetime
    sender_name: str
    sender_role: str | None  # None: never a member of the group (the frame says member)


class RoomState(NamedTuple):
    locked: bool | None  # None: the room has no controls row
    slow_mode_seconds: int | None
    muted_until: datetime | None  # her latest active mute in the group


class CatchUp(NamedTuple):
    missed: list[Missed]
    state: RoomState | None  # None: not a group room (no controls)


_MISSED_SQL = (
    "SELECT msg.id, msg.seq, msg.sender_id, msg.client_id, msg.body, msg.status,"
    " msg.created_at, u.display_name, m.role"
    " FROM messages msg JOIN users u ON u.id = msg.sender_id"
    " LEFT JOIN memberships m ON m.group_id = :grp AND m.user_id = msg.sender_id"
    " WHERE msg.room_id = :room AND msg.seq > :after ORDER BY msg.seq LIMIT :page"
)
_STATE_SQL = (
    "SELECT (SELECT locked FROM room_controls WHERE room_id = :room) AS locked,"
    " (SELECT slow_mode_seconds FROM room_controls WHERE room_id = :room) AS slow,"
    ' (SELECT max("until") FROM member_mutes WHERE group_id = :grp AND user_id = :user'
    '   AND "until" > :now AND lifted_at IS NULL) AS muted_until'
)

_ADMISSION = text(_ADMISSION_SQL)
_MISSED = text(_MISSED_SQL)
_STATE = text(_STATE_SQL).bindparams(bindparam("now", type_=_AT))

_PG_AT = _AT.dialect_impl(asyncpg_dialect.dialect())
_pg_bind_at = _PG_AT.bind_processor(asyncpg_dialect.dialect()) or (lambda v: v)
_pg_read_at = _PG_AT.result_processor(asyncpg_dialect.dialect(), None) or (lambda v: v)


def _numbered(sql: str) -> tuple[str, tuple[str, ...]]:
    """:name parameters as asyncpg's $1, $2… and the names in their order."""
    names: list[str] = []

    def number(m: re.Match[str]) -> str:
        if m.group(1) not in names:
            names.append(m.group(1))
        return f"${names.index(m.group(1)) + 1}"

    return re.sub(r"(?<!:):(\w+)", number, sql), tuple(names)


_PG_ADMISSION = _numbered(_ADMISSION_SQL)
_PG_MISSED = _numbered(_MISSED_SQL)
_PG_STATE = _numbered(_STATE_SQL)


def _args(stmt: tuple[str, tuple[str, ...]], params: dict[str, Any]) -> list[Any]:
    return [_pg_bind_at(params[n]) if n == "now" else params[n] for n in stmt[1]]


def _read_at(value: Any, read: Any) -> datetime | None:
    return None if value is None else read(value)


# --- through SQLAlchemy (SQLite, and PostgreSQL without a raw connection) --------------------


_sa_read_at: dict[str, Any] = {}


def _sqlalchemy_read_at(conn: AsyncConnection) -> Any:
    dialect = conn.dialect
    read = _sa_read_at.get(dialect.name)
    if read is None:
        impl = _AT.dialect_impl(dialect)
        read = _sa_read_at[dialect.name] = impl.result_processor(dialect, None) or (lambda v: v)
    return read


async def admission(
    s: AsyncSession, token_hash: str, room_id: int, secs: float
) -> Admission | None:
    """The session with this token hash (None: no such session) and the room's rows. `secs`
    bounds each statement on asyncpg (through SQLAlchemy, Database.read bounds the unit)."""
    conn = await s.connection()
    row = (await conn.execute(_ADMISSION, {"token_hash": token_hash, "room": room_id})).first()
    if row is None:
        return None
    return _admission(tuple(row), _sqlalchemy_read_at(conn))


def _admission(row: tuple[Any, ...], read: Any) -> Admission:
    values = list(row)
    for i in (2, 3, 4):
        values[i] = _read_at(values[i], read)
    values[5] = bool(values[5])
    return Admission(*values)


async def catch_up(
    s: AsyncSession,
    room_id: int,
    group_id: int,
    user_id: int,
    after_seq: int,
    now: datetime,
    page: int,
    group_room: bool,
    secs: float,
) -> CatchUp:
    """Every message after after_seq in order, and (in a group room) its controls for her."""
    conn = await s.connection()
    read = _sqlalchemy_read_at(conn)
    missed: list[Missed] = []
    while True:
        params = {"room": room_id, "grp": group_id, "after": after_seq, "page": page}
        rows = (await conn.execute(_MISSED, params)).all()
        missed.extend(_missed(tuple(r), read) for r in rows)
        if len(rows) < page:
            break
        after_seq = missed[-1].seq
    state = None
    if group_room:
        params = {"room": room_id, "grp": group_id, "user": user_id, "now": now}
        row = (await conn.execute(_STATE, params)).one()
        state = RoomState(_flag(row[0]), row[1], _read_at(row[2], read))
    return CatchUp(missed, state)


def _missed(row: tuple[Any, ...], read: Any) -> Missed:
    values = list(row)
    values[6] = read(values[6])
    return Missed(*values)


def _flag(value: Any) -> bool | None:
    return None if value is None else bool(value)


# --- PostgreSQL straight on asyncpg (Database.read runs these instead) -----------------------


async def admission_pg(
    conn: asyncpg.Connection, token_hash: str, room_id: int, secs: float
) -> Admission | None:
    params = {"token_hash": token_hash, "room": room_id}
    row = await conn.fetchrow(_PG_ADMISSION[0], *_args(_PG_ADMISSION, params), timeout=secs)
    return None if row is None else _admission(tuple(row), _pg_read_at)


async def catch_up_pg(
    conn: asyncpg.Connection,
    room_id: int,
    group_id: int,
    user_id: int,
    after_seq: int,
    now: datetime,
    page: int,
    group_room: bool,
    secs: float,
) -> CatchUp:
    missed: list[Missed] = []
    while True:
        params = {"room": room_id, "grp": group_id, "after": after_seq, "page": page}
        rows = await conn.fetch(_PG_MISSED[0], *_args(_PG_MISSED, params), timeout=secs)
        missed.extend(_missed(tuple(r), _pg_read_at) for r in rows)
        if len(rows) < page:
            break
        after_seq = missed[-1].seq
    state = None
    if group_room:
        params = {"room": room_id, "grp": group_id, "user": user_id, "now": now}
        row = await conn.fetchrow(_PG_STATE[0], *_args(_PG_STATE, params), timeout=secs)
        assert row is not None
        state = RoomState(_flag(row[0]), row[1], _read_at(row[2], _pg_read_at))
    return CatchUp(missed, state)


admission.on_asyncpg = admission_pg  # type: ignore[attr-defined]
catch_up.on_asyncpg = catch_up_pg  # type: ignore[attr-defined]
