"""Chat messages: stored before they are acknowledged or broadcast, exactly once per client id."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from app import group_sessions
from app.access import Seat
from app.errors import InvalidInput, NotFound
from app.realtime.envelope import Envelope
from app.room_controls import send_restriction
from app.services import Services
from app.storage import groups as group_store
from app.storage import messages as store
from app.storage import send_path
from app.storage.tables import Message

BACKLOG_PAGE = 500
CLIENT_ID_MAX_CHARS = 64


@dataclass(frozen=True, slots=True)
class PlainMessage:
    """A message stored by the common path (app.storage.send_path), as the frames need it:
    building an ORM object would cost more CPU than storing the row did."""

    id: int
    room_id: int
    seq: int
    sender_id: int
    client_id: str
    body: str
    status: str
    created_at: datetime


def encode(frame: dict[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)


def message_frame(
    msg: Message | PlainMessage, sender_name: str, role: str, *, placeholder: bool = False
) -> dict[str, Any]:
    return {
        "type": "message",
        "room": msg.room_id,
        "seq": msg.seq,
        "id": msg.id,
        "client_id": msg.client_id,
        "sender": {"id": msg.sender_id, "name": sender_name, "role": role},
        "body": "" if placeholder else msg.body,
        "status": msg.status,
        "ts": msg.created_at.isoformat(timespec="seconds"),
    }


def envelopes(msg: Message | PlainMessage, sender_name: str, role: str) -> list[Envelope]:
    """One frame per audience: held messages reach only staff and the sender; hidden ones
    reach members as a placeholder without the text."""
    if msg.status == "held":
        return [
            Envelope(
                msg.seq, f"staff,u:{msg.sender_id}", encode(message_frame(msg, sender_name, role))
            )
        ]
    if msg.status == "hidden":
        return [
            Envelope(msg.seq, "staff", encode(message_frame(msg, sender_name, role))),
            Envelope(
                msg.seq, "members", encode(message_frame(msg, sender_name, role, placeholder=True))
            ),
        ]
    return [Envelope(msg.seq, "*", encode(message_frame(msg, sender_name, role)))]


def validate_body(svc: Services, body: object) -> str:
    if not isinstance(body, str) or not body.strip():
        raise InvalidInput("A message cannot be empty.", code="empty_message")
    limit = svc.settings.message_max_chars
    if len(body) > limit:
        raise InvalidInput(
            f"That message is {len(body):,} characters; the limit is {limit:,}. "
            "Please split it into shorter messages.",
            code="message_too_long",
        )
    return body


def validate_client_id(client_id: object) -> str:
    if not isinstance(client_id, str) or not 1 <= len(client_id) <= CLIENT_ID_MAX_CHARS:
        raise InvalidInput(
            f"client_id must be a string of 1 to {CLIENT_ID_MAX_CHARS} characters.",
            code="invalid_client_id",
        )
    return client_id


@dataclass(frozen=True)
class Sent:
    message: Message | PlainMessage
    duplicate: bool
    # The private crisis-resources frame for the sender, sent right after the ack (app.risk).
    care: dict[str, Any] | None = None


async def send_message(svc: Services, seat: Seat, client_id: str, body: str) -> Sent:
    """Store (with its risk assessment and any escalation, in one transaction), then publish.
    A resend with the same client id returns the stored message. Membership, lock, mute, slow
    mode and closed-room rules are read from the database here, at each send."""
    from app import risk  # the risk hook imports this module's frames

    verdict = None
    client_id = validate_client_id(client_id)
    body = validate_body(svc, body)
    plain = await _send_plain(svc, seat, client_id, body)
    if plain is not None:
        await svc.hub.publish(seat.room_id, envelopes(plain, seat.user_name, seat.role))
        return Sent(plain, duplicate=False)
    closed = await group_sessions.closed_room_error(svc, seat)  # read-only between sessions
    try:
        async with svc.db.transaction() as s:
            existing = await store.message_by_client_id(s, seat.user_id, client_id)
            if existing is not None:
                # Her first attempt may have died before the care frame reached her.
                sent = Sent(existing, duplicate=True, care=await risk.care_again(s, existing))
            else:
                # Re-checked per send: a removal between connect and send stops the message.
                m = await group_store.membership(s, seat.group_id, seat.user_id)
                if m is None or m.status != "active":
                    raise NotFound()
                restriction = closed or await send_restriction(
                    s, seat.room_id, seat.room_kind, m, svc.clock.now()
                )  # lock, mute, slow mode
                seq = await store.next_seq(s, seat.room_id)
                msg = Message(
                    room_id=seat.room_id,
                    seq=seq,
                    sender_id=seat.user_id,
                    client_id=client_id,
                    body=body,
                    created_at=svc.clock.now(),
                )
                s.add(msg)
                verdict = await risk.screen(svc, s, seat, msg)
                if restriction is not None:
                    # A paused room or member never silences risk: such words go to the care
                    # team (held from the group), anything else is refused and rolled back.
                    if verdict.severity == "none":
                        raise restriction
                    await risk.hold_restricted(svc, s, seat, msg, verdict, restriction.code)
                sent = Sent(msg, duplicate=False, care=verdict.care)
    except IntegrityError:
        # The same client id raced in from another connection: that row wins.
        existing = await _existing(svc, seat.user_id, client_id)
        if existing is None:
            raise
        sent = Sent(existing, duplicate=True)
    if sent.message.room_id != seat.room_id:
        raise InvalidInput(
            "That client_id was already used in another room.", code="invalid_client_id"
        )
    # Republished on a duplicate too: the first attempt may have died between commit and publish.
    await svc.hub.publish(seat.room_id, envelopes(sent.message, seat.user_name, seat.role))
    if verdict is not None:
        await risk.after_commit(svc, seat, verdict)
    return sent


async def _send_plain(svc: Services, seat: Seat, client_id: str, body: str) -> PlainMessage | None:
    """The common case in one unit of work (app.storage.send_path): a benign message from an
    active member in an open room. None: nothing was stored, the full path decides."""
    from app import risk

    now = svc.clock.now()
    req = send_path.PlainSend(
        room_id=seat.room_id,
        room_kind=seat.room_kind,
        group_id=seat.group_id,
        sender_id=seat.user_id,
        sender_is_staff=seat.is_staff,
        client_id=client_id,
        body=body,
        now=now,
    )
    try:
        outcome = await svc.db.run_sync(send_path.store_plain, req, risk.is_benign)
        if outcome is send_path.Detour.CLOSED_UNLESS_FACILITATOR and (
            await group_sessions.facilitator_present(svc, req.room_id)
        ):
            req = replace(req, room_confirmed_open=True)
            outcome = await svc.db.run_sync(send_path.store_plain, req, risk.is_benign)
    except IntegrityError:
        return None  # the same client id raced in: the full path returns that row
    if not isinstance(outcome, send_path.Stored):
        return None
    return PlainMessage(
        id=outcome.id,
        room_id=req.room_id,
        seq=outcome.seq,
        sender_id=req.sender_id,
        client_id=client_id,
        body=body,
        status="visible",
        created_at=now,
    )


async def _existing(svc: Services, user_id: int, client_id: str) -> Message | None:
    async with svc.db.transaction() as s:
        return await store.message_by_client_id(s, user_id, client_id)


async def backlog(svc: Services, room_id: int, after_seq: int) -> list[Envelope]:
    """Every envelope after after_seq, in order (all audiences; the hub filters per viewer)."""
    out: list[Envelope] = []
    async with svc.db.reading() as s:
        room = await store.room_by_id(s, room_id)
        if room is None:
            return out
        roles = await group_store.roles_in_group(s, room.group_id)
        while True:
            rows = await store.messages_after(s, room_id, after_seq, BACKLOG_PAGE)
            for msg, sender in rows:
                out.extend(envelopes(msg, sender.display_name, roles.get(sender.id, "member")))  # type: ignore[arg-type]
            if len(rows) < BACKLOG_PAGE:
                return out
            after_seq = rows[-1][0].seq


async def room_head(svc: Services, room_id: int) -> int:
    async with svc.db.reading() as s:
        return await store.room_last_seq(s, room_id)
