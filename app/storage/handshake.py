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

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

import asyncpg
from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from app.storage.pg_direct import numbered
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


_ADMISSION_COLUMNS = (
    "s.id, s.user_id, s.created_at, s.last_seen_at, s.revoked_at,"
    " u.is_active, u.display_name,"
    " r.id, r.kind, r.group_id, r.member_id, r.last_seq,"
    " g.org_id, g.agreements_version,"
    " m.role, m.status, m.accepted_version"
)
_ADMISSION_JOINS = (
    " JOIN users u ON u.id = s.user_id"
    " LEFT JOIN rooms r ON r.id = {room}"
    " LEFT JOIN groups g ON g.id = r.group_id"
    " LEFT JOIN memberships m ON m.group_id = r.group_id AND m.user_id = s.user_id"
)
_ADMISSION_SQL = (
    f"SELECT {_ADMISSION_COLUMNS} FROM login_sessions s"
    + _ADMISSION_JOINS.format(room=":room")
    + " WHERE s.token_hash = :token_hash"
)
# The asks of a batch in one statement: row i answers ask i (no row: no such session).
_PG_ADMISSIONS = (
    f"SELECT q.i, {_ADMISSION_COLUMNS}"
    " FROM unnest($1::text[], $2::int[]) WITH ORDINALITY AS q(token_hash, room, i)"
    " JOIN login_sessions s ON s.token_hash = q.token_hash" + _ADMISSION_JOINS.format(room="q.room")
)


class AdmissionAsk(NamedTuple):
    token_hash: str
    room_id: int


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


class CatchUpAsk(NamedTuple):
    room_id: int
    group_id: int
    user_id: int
    after_seq: int
    now: datetime
    group_room: bool


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


_PG_MISSED = numbered(_MISSED_SQL)
_PG_STATE = numbered(_STATE_SQL)

Fetch = Callable[[str, dict[str, Any]], Awaitable[Sequence[Sequence[Any]]]]


def _read_at(value: Any, read: Any) -> datetime | None:
    return None if value is None else read(value)


def _admission(row: Sequence[Any], read: Any) -> Admission:
    values = list(row)
    for i in (2, 3, 4):
        values[i] = _read_at(values[i], read)
    values[5] = bool(values[5])
    return Admission(*values)


def _missed(row: Sequence[Any], read: Any) -> Missed:
    values = list(row)
    values[6] = read(values[6])
    return Missed(*values)


def _flag(value: Any) -> bool | None:
    return None if value is None else bool(value)


async def _catch_ups(fetch: Fetch, read: Any, asks: list[CatchUpAsk], page: int) -> list[CatchUp]:
    """The messages of each (room, resume point) once, and each (room, member)'s room state
    once: in a reconnect storm most sockets of a room ask for the very same rows."""
    missed: dict[tuple[int, int, int], list[Missed]] = {}
    states: dict[tuple[int, int, int], RoomState] = {}
    for ask in asks:
        key = (ask.room_id, ask.group_id, ask.after_seq)
        if key not in missed:
            missed[key] = await _missed_after(fetch, read, ask, page)
        who = (ask.room_id, ask.group_id, ask.user_id)
        if ask.group_room and who not in states:
            params = {"room": ask.room_id, "grp": ask.group_id, "user": ask.user_id}
            row = (await fetch("state", {**params, "now": ask.now}))[0]
            states[who] = RoomState(_flag(row[0]), row[1], _read_at(row[2], read))
    return [
        CatchUp(
            missed[(a.room_id, a.group_id, a.after_seq)],
            states[(a.room_id, a.group_id, a.user_id)] if a.group_room else None,
        )
        for a in asks
    ]


async def _missed_after(fetch: Fetch, read: Any, ask: CatchUpAsk, page: int) -> list[Missed]:
    out: list[Missed] = []
    after = ask.after_seq
    while True:
        params = {"room": ask.room_id, "grp": ask.group_id, "after": after, "page": page}
        rows = await fetch("missed", params)
        out.extend(_missed(r, read) for r in rows)
        if len(rows) < page:
            return out
        after = out[-1].seq


# --- through SQLAlchemy (SQLite, and PostgreSQL without a raw connection) --------------------

_SQLALCHEMY = {"admission": _ADMISSION, "missed": _MISSED, "state": _STATE}
_sa_read_at: dict[str, Any] = {}


def _sqlalchemy_read_at(conn: AsyncConnection) -> Any:
    dialect = conn.dialect
    read = _sa_read_at.get(dialect.name)
    if read is None:
        impl = _AT.dialect_impl(dialect)
        read = _sa_read_at[dialect.name] = impl.result_processor(dialect, None) or (lambda v: v)
    return read


def _sqlalchemy_fetch(conn: AsyncConnection) -> Fetch:
    async def fetch(name: str, params: dict[str, Any]) -> Sequence[Sequence[Any]]:
        return (await conn.execute(_SQLALCHEMY[name], params)).all()

    return fetch


async def admissions(
    s: AsyncSession, asks: list[AdmissionAsk], secs: float
) -> list[Admission | None]:
    """For each ask, the session with its token hash (None: no such session) and the room's
    rows, in one transaction. `secs` bounds each statement on asyncpg (through SQLAlchemy,
    Database.read bounds the unit)."""
    conn = await s.connection()
    fetch, read = _sqlalchemy_fetch(conn), _sqlalchemy_read_at(conn)
    out: list[Admission | None] = []
    for ask in asks:
        rows = await fetch("admission", {"token_hash": ask.token_hash, "room": ask.room_id})
        out.append(_admission(rows[0], read) if rows else None)
    return out


async def catch_ups(
    s: AsyncSession, asks: list[CatchUpAsk], page: int, secs: float
) -> list[CatchUp]:
    """For each ask, every message after its resume point in order, and (in a group room)
    the room's controls for her, in one transaction."""
    conn = await s.connection()
    return await _catch_ups(_sqlalchemy_fetch(conn), _sqlalchemy_read_at(conn), asks, page)


# --- PostgreSQL straight on asyncpg (Database.read runs these instead) -----------------------

_PG = {"missed": _PG_MISSED, "state": _PG_STATE}


def _args(stmt: tuple[str, tuple[str, ...]], params: dict[str, Any]) -> list[Any]:
    return [_pg_bind_at(params[n]) if n == "now" else params[n] for n in stmt[1]]


async def admissions_pg(
    conn: asyncpg.Connection, asks: list[AdmissionAsk], secs: float
) -> list[Admission | None]:
    rows = await conn.fetch(
        _PG_ADMISSIONS,
        [a.token_hash for a in asks],
        [a.room_id for a in asks],
        timeout=secs,
    )
    out: list[Admission | None] = [None] * len(asks)
    for row in rows:
        out[row[0] - 1] = _admission(tuple(row)[1:], _pg_read_at)
    return out


async def catch_ups_pg(
    conn: asyncpg.Connection, asks: list[CatchUpAsk], page: int, secs: float
) -> list[CatchUp]:
    async def fetch(name: str, params: dict[str, Any]) -> Sequence[Sequence[Any]]:
        stmt = _PG[name]
        return await conn.fetch(stmt[0], *_args(stmt, params), timeout=secs)  # type: ignore[no-any-return]

    return await _catch_ups(fetch, _pg_read_at, asks, page)


admissions.on_asyncpg = admissions_pg  # type: ignore[attr-defined]
catch_ups.on_asyncpg = catch_ups_pg  # type: ignore[attr-defined]
