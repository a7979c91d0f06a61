"""Joining a room over WebSocket: who she is and whether she may enter, then what she missed.

The same rules as a page (app.accounts.resolve, app.access.enter_room), read with two units
of work instead of seven transactions (app.storage.handshake): a thousand sockets
reconnecting at once must not queue 30 s for the database pool and fail. The catch-up is a
second unit because it must be read after the socket is registered for live frames: a
message committed in between then reaches her either way, and the hub drops the copy.

A handshake that waits longer than `handshake_db_seconds` for a database connection, or for
one statement, fails with ServerBusy, and the WebSocket endpoint closes the socket with
TRY_AGAIN: the client retries, nothing is lost. A statement that has started is otherwise not
cut off: cancelling one costs its connection, and under a storm that made matters worse.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app import accounts, messages, room_controls
from app.access import Seat, entry_refusal
from app.errors import NotAuthenticated
from app.realtime.envelope import Envelope
from app.services import Services
from app.storage import accounts as account_store
from app.storage import handshake as store

log = logging.getLogger("village.handshake")

_TOUCHES_KEPT = 10_000


class ServerBusy(Exception):
    """The database did not answer the handshake in time, or failed: retry shortly."""


@dataclass(frozen=True, slots=True)
class Admitted:
    seat: Seat
    head: int  # the room's last message id when she was admitted
    session_secs: float  # until her session's lifetime ends


@contextlib.asynccontextmanager
async def _busy_if_failing() -> AsyncIterator[None]:
    try:
        yield
    except (TimeoutError, PoolTimeout, DBAPIError, OSError) as exc:
        log.warning("websocket handshake: database busy or failing (%s)", type(exc).__name__)
        raise ServerBusy() from exc


async def admit(svc: Services, token: str | None, room_id: int) -> Admitted:
    """Her seat in the room, or NotAuthenticated / NotFound / AgreementsRequired as a page
    would refuse her, or ServerBusy."""
    if not token:
        raise NotAuthenticated()
    now = svc.clock.now()
    secs = svc.settings.handshake_db_seconds
    ask = store.AdmissionAsk(accounts.token_hash(token), room_id)
    async with _busy_if_failing():
        async with asyncio.timeout(secs):
            row = await svc.handshake_reads.admissions.ask(ask, partial(_admissions, svc))
        if row is None or row.revoked_at is not None:
            raise NotAuthenticated()
        if accounts.session_ended(svc.settings, row.created_at, row.last_seen_at, now):
            # Revoked in its own transaction, committed before she is refused (as resolve).
            async with asyncio.timeout(secs), svc.db.transaction() as s:
                await account_store.revoke_session(s, row.session_id, now)
            raise NotAuthenticated("Your session has ended. Please sign in again.")
        if not row.user_active:
            raise NotAuthenticated()
        due = accounts.touch_due(row.last_seen_at, now)
        if due and _first_touch(row.session_id, row.last_seen_at):
            async with asyncio.timeout(secs), svc.db.transaction() as s:
                await account_store.touch_session(s, row.session_id, now)
    refused = entry_refusal(
        user_id=row.user_id,
        user_active=row.user_active,
        room_kind=row.room_kind,
        room_member_id=row.room_member_id,
        agreements_version=row.agreements_version,
        role=row.role,
        status=row.status,
        accepted_version=row.accepted_version,
    )
    if refused is not None:
        raise refused
    assert row.room_kind and row.group_id and row.org_id is not None and row.role
    seat = Seat(
        user_id=row.user_id,
        user_name=row.user_name,
        room_id=room_id,
        room_kind=row.room_kind,
        group_id=row.group_id,
        org_id=row.org_id,
        role=row.role,
    )
    return Admitted(seat, row.room_last_seq or 0, accounts.session_expires_at(svc, row.created_at))


async def _admissions(
    svc: Services, asks: list[store.AdmissionAsk]
) -> list[store.Admission | None]:
    secs = svc.settings.handshake_db_seconds
    return await svc.db.read(store.admissions, asks, secs, wait_secs=secs)


async def _catch_ups(svc: Services, asks: list[store.CatchUpAsk]) -> list[store.CatchUp]:
    secs = svc.settings.handshake_db_seconds
    return await svc.db.read(store.catch_ups, asks, messages.BACKLOG_PAGE, secs, wait_secs=secs)


_touched: set[tuple[int, datetime]] = set()  # (session id, the last_seen_at it replaced)


def _first_touch(session_id: int, last_seen_at: datetime) -> bool:
    """One touch per stale last_seen_at on this worker: the 250 tabs of one person in a
    reconnect storm all read the same stale value, and would otherwise each write it, one
    after another on the same row. Once written, later reads see the new value."""
    key = (session_id, last_seen_at)
    if key in _touched:
        return False
    if len(_touched) >= _TOUCHES_KEPT:
        _touched.clear()
    _touched.add(key)
    return True


@dataclass(frozen=True, slots=True)
class Caught:
    backlog: list[Envelope]  # every envelope after the resume point, in order
    greeting: list[str]  # room state and her own mute, sent after caught_up


async def catch_up(svc: Services, seat: Seat, after_seq: int) -> Caught:
    """What she missed after after_seq, and the room's state for her; or ServerBusy."""
    now = svc.clock.now()
    ask = store.CatchUpAsk(
        seat.room_id, seat.group_id, seat.user_id, after_seq, now, seat.room_kind == "group"
    )
    async with _busy_if_failing():
        async with asyncio.timeout(svc.settings.handshake_db_seconds):
            found = await svc.handshake_reads.catch_ups.ask(ask, partial(_catch_ups, svc))
    backlog: list[Envelope] = []
    for m in found.missed:
        msg = messages.PlainMessage(
            id=m.id,
            room_id=seat.room_id,
            seq=m.seq,
            sender_id=m.sender_id,
            client_id=m.client_id,
            body=m.body,
            status=m.status,
            created_at=m.created_at,
        )
        backlog.extend(messages.envelopes(msg, m.sender_name, m.sender_role or "member"))
    greeting: list[str] = []
    if found.state is not None:
        greeting = room_controls.greeting(
            seat.room_id,
            seat.user_id,
            bool(found.state.locked),
            found.state.slow_mode_seconds or 0,
            found.state.muted_until,
        )
    return Caught(backlog, greeting)
