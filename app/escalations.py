"""Escalations: opened with the message that caused them, acknowledged, contacted, resolved.

Every transition is an action: one transaction, an audit row (who, when), then the staff
dashboards are told. Only the group's clinicians act on an escalation; facilitators are told
that one exists (severity, member, state) and never see the clinicians' notes.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app import messages
from app.access import Seat
from app.errors import InvalidInput, NotFound
from app.notifications import outbox
from app.realtime.envelope import Envelope
from app.services import Services
from app.storage import accounts as account_store
from app.storage import audit
from app.storage import escalations as store
from app.storage import groups as group_store
from app.storage import messages as message_store
from app.storage.tables import Escalation, Message, Room, User

log = logging.getLogger("village.escalations")

OUTCOMES = {
    "safe_follow_up": "Safe, with follow-up",
    "referred": "Referred",
    "emergency_services": "Emergency services contacted",
    "not_a_risk": "Not a risk",
}
NOTE_MAX_CHARS = 4000
CONTEXT_MESSAGES = 10  # before and after the escalated message, on the escalation page
SEVERITY_ORDER = {"imminent": 0, "high": 1, "unassessed": 2, "moderate": 3}


def staff_channel(group_id: int) -> str:
    return f"staff:group:{group_id}"


def ack_timeout(svc: Services, configured_minutes: int | None) -> timedelta:
    return timedelta(minutes=configured_minutes or svc.settings.escalation_ack_minutes)


async def open_in_transaction(
    svc: Services,
    s: AsyncSession,
    seat: Seat,
    msg: Message,
    *,
    kind: str,
    severity: str,
    emergency: bool,
    assessment: dict[str, Any],
    categories: list[str],
    rules: list[str],
) -> Escalation:
    """Written in the sending transaction: the message is not acknowledged before this commits."""
    now = svc.clock.now()
    org = await store.org_settings(s, seat.org_id)
    esc = Escalation(
        org_id=seat.org_id,
        group_id=seat.group_id,
        room_id=msg.room_id,
        message_id=msg.id,  # type: ignore[arg-type]
        member_id=msg.sender_id,
        kind=kind,
        severity=severity,
        emergency=emergency,
        categories=categories,
        rules=rules,
        assessment=assessment,
        opened_at=now,
        next_deadline_at=now + ack_timeout(svc, org.ack_timeout_minutes)
        if kind == "escalation"
        else None,
    )
    s.add(esc)
    await s.flush()
    await audit.record(
        s,
        at=now,
        actor_id=None,
        action="escalation.open",
        target_type="escalation",
        target_id=esc.id,
        group_id=esc.group_id,
        detail={"kind": kind, "severity": severity, "message_id": msg.id, "rules": rules},
    )
    if kind == "escalation":
        emails = await outbox.staff_emails(s, esc.group_id, ("clinician", "facilitator"))
        await outbox.enqueue(svc, s, esc, "opened", emails)
    return esc


# --- reading --------------------------------------------------------------------------------


def item(esc: Escalation, member_name: str) -> dict[str, Any]:
    """What dashboards get, live and in the queue: never the message text, never the note."""
    return {
        "type": "escalation",
        "id": esc.id,
        "group": esc.group_id,
        "kind": esc.kind,
        "severity": esc.severity,
        "emergency": esc.emergency,
        "categories": esc.categories,
        "state": esc.state,
        "member": {"id": esc.member_id, "name": member_name},
        "opened_at": esc.opened_at.isoformat(timespec="seconds"),
        "url": f"/escalations/{esc.id}",
    }


async def staff_groups(svc: Services, user: User, roles: tuple[str, ...]) -> list[int]:
    async with svc.db.transaction() as s:
        rows = await group_store.memberships_of_user(s, user.id)  # type: ignore[arg-type]
    return [g.id for m, g in rows if m.role in roles]  # type: ignore[misc]


async def queue(
    svc: Services, user: User, roles: tuple[str, ...] = ("clinician",)
) -> list[dict[str, Any]]:
    """Open work across the clinician's groups: most severe first, then oldest first."""
    groups = await staff_groups(svc, user, roles)
    if not groups:
        raise NotFound()
    async with svc.db.transaction() as s:
        rows = await store.open_queue(s, groups)
    rows.sort(key=lambda r: (SEVERITY_ORDER.get(r[0].severity, 9), r[0].opened_at, r[0].id))
    return [item(e, u.display_name) for e, u in rows]


async def _clinician_escalation(s: AsyncSession, user: User, escalation_id: int) -> Escalation:
    esc = await store.escalation(s, escalation_id)
    if esc is None:
        raise NotFound()
    m = await group_store.membership(s, esc.group_id, user.id)  # type: ignore[arg-type]
    if m is None or m.status != "active" or m.role != "clinician" or not user.is_active:
        raise NotFound()
    return esc


@dataclass
class EscalationView:
    escalation: Escalation
    member: User
    message: Message
    segments: list[tuple[str, dict[str, Any] | None]]  # (text, evidence or None)
    evidence: list[dict[str, Any]]
    context: list[tuple[Message, User]]
    history: list[Escalation]
    people: dict[int, str]
    notifications: list[Any]


def _span(e: dict[str, Any]) -> tuple[int, int]:
    span = e.get("span") or (e.get("start"), e.get("end"))
    try:
        return int(span[0]), int(span[1])
    except (TypeError, ValueError, IndexError):
        return 0, 0


def highlight(body: str, evidence: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any] | None]]:
    """Split the body into plain and evidence segments (overlapping spans merge into the first)."""
    spans = sorted(
        (
            (*_span(e), e)
            for e in evidence
            if e.get("source", "text") == "text" and _span(e) != (0, 0)
        ),
        key=lambda t: (t[0], -t[1]),
    )
    out: list[tuple[str, dict[str, Any] | None]] = []
    pos = 0
    for start, end, ev in spans:
        start, end = max(start, pos), min(end, len(body))
        if start >= end:
            continue
        if start > pos:
            out.append((body[pos:start], None))
        out.append((body[start:end], ev))
        pos = end
    if pos < len(body):
        out.append((body[pos:], None))
    return out


async def view(svc: Services, user: User, escalation_id: int) -> EscalationView:
    """The escalation page's content; every view is audited (it shows a member's words)."""
    async with svc.db.transaction() as s:
        esc = await _clinician_escalation(s, user, escalation_id)
        msg = await s.get(Message, esc.message_id)
        member = await account_store.user_by_id(s, esc.member_id)
        assert msg is not None and member is not None
        context = await store.messages_around(s, esc.room_id, msg.seq, CONTEXT_MESSAGES)
        history = await store.member_history(s, esc.group_id, esc.member_id, esc.id)  # type: ignore[arg-type]
        notes = await store.notifications_of(s, esc.id)  # type: ignore[arg-type]
        ids = {i for i in (esc.acknowledged_by, esc.contacted_by, esc.resolved_by) if i}
        people = {}
        for uid in ids:
            u = await account_store.user_by_id(s, uid)
            people[uid] = u.display_name if u else "?"
        await audit.record(
            s,
            at=svc.clock.now(),
            actor_id=user.id,
            action="escalation.view",
            target_type="escalation",
            target_id=esc.id,
            group_id=esc.group_id,
        )
    evidence = [e for e in esc.assessment.get("evidence", []) if isinstance(e, dict)]
    return EscalationView(
        esc, member, msg, highlight(msg.body, evidence), evidence, context, history, people, notes
    )


# --- transitions ----------------------------------------------------------------------------


async def _transition(
    svc: Services,
    user: User,
    escalation_id: int,
    action: str,
    change: Any,
    detail: dict[str, Any] | None = None,
) -> Escalation:
    now = svc.clock.now()
    async with svc.db.transaction() as s:
        esc = await _clinician_escalation(s, user, escalation_id)
        change(esc, now)
        s.add(esc)
        await audit.record(
            s,
            at=now,
            actor_id=user.id,
            action=action,
            target_type="escalation",
            target_id=esc.id,
            group_id=esc.group_id,
            detail={"state": esc.state, **(detail or {})},
        )
        member = await account_store.user_by_id(s, esc.member_id)
    await publish_item(svc, esc, member.display_name if member else "")
    return esc


async def acknowledge(svc: Services, user: User, escalation_id: int) -> Escalation:
    """Stops the ladder. Acknowledging twice keeps the first who and when."""

    def change(esc: Escalation, now: datetime) -> None:
        if esc.state == "resolved":
            raise InvalidInput("This escalation is already resolved.", code="already_resolved")
        if esc.acknowledged_at is None:
            esc.acknowledged_by, esc.acknowledged_at = user.id, now
        if esc.state == "open":
            esc.state = "acknowledged"
        esc.next_deadline_at = None

    return await _transition(svc, user, escalation_id, "escalation.acknowledge", change)


async def mark_contacted(svc: Services, user: User, escalation_id: int) -> Escalation:
    def change(esc: Escalation, now: datetime) -> None:
        if esc.state == "resolved":
            raise InvalidInput("This escalation is already resolved.", code="already_resolved")
        if esc.acknowledged_at is None:  # contacting her is the strongest acknowledgement
            esc.acknowledged_by, esc.acknowledged_at = user.id, now
        esc.state, esc.contacted_by, esc.contacted_at = "contacted", user.id, now
        esc.next_deadline_at = None

    return await _transition(svc, user, escalation_id, "escalation.contacted", change)


async def resolve(
    svc: Services, user: User, escalation_id: int, outcome: str, note: str
) -> Escalation:
    if outcome not in OUTCOMES:
        raise InvalidInput(
            "Choose an outcome: " + ", ".join(OUTCOMES.values()) + ".", code="invalid_outcome"
        )
    note = note.strip()
    if len(note) > NOTE_MAX_CHARS:
        raise InvalidInput(f"Keep the note under {NOTE_MAX_CHARS:,} characters.", code="note_long")

    def change(esc: Escalation, now: datetime) -> None:
        if esc.state == "resolved":
            raise InvalidInput("This escalation is already resolved.", code="already_resolved")
        if esc.acknowledged_at is None:
            esc.acknowledged_by, esc.acknowledged_at = user.id, now
        esc.state, esc.resolved_by, esc.resolved_at = "resolved", user.id, now
        esc.outcome, esc.note, esc.next_deadline_at = outcome, note, None

    # The detail names the rules for "not a risk", so false alarms can be counted per rule.
    async with svc.db.transaction() as s:
        esc = await _clinician_escalation(s, user, escalation_id)
        rules = list(esc.rules)
    detail: dict[str, Any] = {"outcome": outcome}
    if outcome == "not_a_risk":
        detail["rules"] = rules
    return await _transition(svc, user, escalation_id, "escalation.resolve", change, detail)


async def not_a_risk(svc: Services, user: User, escalation_id: int, note: str) -> Escalation:
    return await resolve(svc, user, escalation_id, "not_a_risk", note)


async def open_private_room(svc: Services, user: User, escalation_id: int) -> Room:
    """The clinician's 1:1 room with the member (one per member and group, reused)."""
    now = svc.clock.now()
    async with svc.db.transaction() as s:
        esc = await _clinician_escalation(s, user, escalation_id)
        room = await store.private_room(s, esc.group_id, esc.member_id)
        created = room is None
        if room is None:
            room = Room(
                group_id=esc.group_id, kind="private", member_id=esc.member_id, created_at=now
            )
            s.add(room)
            await s.flush()
        await audit.record(
            s,
            at=now,
            actor_id=user.id,
            action="escalation.private_room",
            target_type="escalation",
            target_id=esc.id,
            group_id=esc.group_id,
            detail={"room_id": room.id, "created": created},
        )
        group_room = await group_store.group_room(s, esc.group_id)
    if group_room is not None:
        # The member sees, wherever she is in the group, that someone reached out.
        frame = {"type": "reached_out", "room": room.id, "url": f"/rooms/{room.id}"}
        await svc.hub.publish(
            group_room.id,  # type: ignore[arg-type]
            [Envelope(0, f"u:{esc.member_id}", json.dumps(frame))],
        )
    return room


async def private_rooms(svc: Services, user: User) -> list[Room]:
    async with svc.db.transaction() as s:
        return await store.private_rooms_of_member(s, user.id)  # type: ignore[arg-type]


# --- held messages --------------------------------------------------------------------------


async def release_held(svc: Services, user: User, message_id: int) -> Message:
    """A facilitator (or clinician) of the group lets a held message through to the group."""
    now = svc.clock.now()
    async with svc.db.transaction() as s:
        msg = await s.get(Message, message_id, populate_existing=True)
        room = await message_store.room_by_id(s, msg.room_id) if msg else None
        if msg is None or room is None:
            raise NotFound()
        m = await group_store.membership(s, room.group_id, user.id)  # type: ignore[arg-type]
        if m is None or m.status != "active" or m.role not in ("facilitator", "clinician"):
            raise NotFound()
        if msg.status != "held":
            raise InvalidInput("This message is not held.", code="not_held")
        msg.status = "visible"
        s.add(msg)
        await audit.record(
            s,
            at=now,
            actor_id=user.id,
            action="message.release",
            target_type="message",
            target_id=msg.id,
            group_id=room.group_id,
        )
        sender = await account_store.user_by_id(s, msg.sender_id)
        roles = await group_store.roles_in_group(s, room.group_id)
    assert sender is not None
    frame = messages.message_frame(msg, sender.display_name, roles.get(sender.id, "member"))  # type: ignore[arg-type]
    # seq 0: members' sockets are already past this seq and would drop a message envelope.
    await svc.hub.publish(msg.room_id, [Envelope(0, "*", messages.encode(frame))])
    return msg


# --- live -----------------------------------------------------------------------------------


async def publish_staff(svc: Services, group_id: int, frame: dict[str, Any]) -> None:
    # Best effort after commit: a dashboard that misses this reloads the queue from the
    # database when it reconnects, and email/webhook come from the outbox regardless.
    try:
        await svc.broker.publish(staff_channel(group_id), json.dumps(frame).encode())
    except Exception:
        log.warning("staff channel publish failed for group %s", group_id)


async def publish_item(svc: Services, esc: Escalation, member_name: str) -> None:
    await publish_staff(svc, esc.group_id, item(esc, member_name))
