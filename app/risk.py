"""The risk hook in the message path: assess, decide the message's status, open what must be
opened, all inside the sending transaction. It returns a verdict; nothing is published here.

Distress is never a violation: this module can hold a message back from the group for the care
team, but it never mutes, removes, hides or deletes anything, and nothing it calls does.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app import crisis, escalations, reports
from app.access import Seat
from app.facilitator_access import facilitators_audience, to_facilitators
from app.messages import encode
from app.realtime.envelope import Envelope
from app.services import Services
from app.storage import audit
from app.storage import escalations as store
from app.storage.tables import Escalation, Message

log = logging.getLogger("village.risk")

SEVERITIES = ("none", "low", "moderate", "high", "imminent")
UNASSESSED = "unassessed"  # the engine failed: a human must look, it is never treated as none


def rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


@dataclass
class Verdict:
    severity: str = "none"
    escalation: Escalation | None = None
    checkin: bool = False
    care: dict[str, Any] | None = None
    categories: list[str] = field(default_factory=list)
    # The facilitators' flags-panel frame (app.reports), addressed to them by user id.
    flag_envelopes: list[Envelope] = field(default_factory=list)


def _severity_name(value: object) -> str:
    name = str(getattr(value, "value", value)).lower()
    return name if name in SEVERITIES else UNASSESSED


def _rules_of(assessment: dict[str, Any]) -> list[str]:
    """Every rule name in the engine's evidence (cues and the context rules that moved them)."""
    found: list[str] = []
    for ev in assessment.get("evidence", []) or []:
        if not isinstance(ev, dict):
            continue
        for key in ("cue", "rule"):
            if isinstance(ev.get(key), str):
                found.append(ev[key])
        for eff in ev.get("effects", []) or ev.get("context", []) or []:
            if isinstance(eff, dict) and isinstance(eff.get("rule"), str):
                found.append(eff["rule"])
    return sorted(set(found))


def _assess(body: str, recent: tuple[str, ...]) -> tuple[str, dict[str, Any], list[str]]:
    from moderation import assess  # the pure engine; imported here so app imports stay light

    result = assess(body, recent=recent)
    categories = [str(getattr(c, "value", c)) for c in result.categories]
    return _severity_name(result.severity), result.to_dict(), categories


def is_benign(body: str, recent: tuple[str, ...]) -> bool:
    """Severity none: screen() would open, flag, hold and tell nothing (every threshold is at
    least low). Used by the common send path; an engine failure is never benign."""
    from moderation import assess

    try:
        return _severity_name(assess(body, recent=recent).severity) == "none"
    except Exception:
        return False  # screen() logs it and opens the review


async def screen(svc: Services, s: AsyncSession, seat: Seat, msg: Message) -> Verdict:
    """Called by send_message inside its transaction, before the message is flushed."""
    if seat.is_staff:
        # Staff write about risk (resources, check-ins); only members' words are screened.
        return Verdict()
    recent = await store.recent_bodies(s, msg.room_id, msg.sender_id, msg.seq)
    try:
        severity, assessment, categories = _assess(msg.body, tuple(recent))
    except Exception as exc:  # AssessmentError, or a bug in the engine: a human reviews it
        log.error(
            "risk engine failed on message %s in room %s: %s", msg.client_id, msg.room_id, exc
        )
        severity, assessment, categories = UNASSESSED, {"error": type(exc).__name__}, []
    th = await store.thresholds(s, seat.group_id)
    verdict = Verdict(severity=severity, categories=categories)
    if severity == UNASSESSED:
        await s.flush()
        verdict.escalation = await escalations.open_in_transaction(
            svc, s, seat, msg, kind="review", severity=severity, emergency=False,
            assessment=assessment, categories=categories, rules=[],
        )  # fmt: skip
        return verdict
    held = seat.room_kind == "group" and rank(severity) >= rank(th.hold_at)
    if held:
        msg.status = "held"
    await s.flush()
    rules = _rules_of(assessment)
    if rank(severity) >= rank(th.escalate_at):
        verdict.escalation = await escalations.open_in_transaction(
            svc, s, seat, msg, kind="escalation", severity=severity,
            emergency=rank(severity) >= rank(th.hold_at), assessment=assessment,
            categories=categories, rules=rules,
        )  # fmt: skip
        org = await store.org_settings(s, seat.org_id)
        verdict.care = crisis.care_frame(
            msg.room_id, held=held, resources=crisis.resources_for(org.crisis_resources)
        )
        if held:
            await audit.record(
                s, at=svc.clock.now(), actor_id=None, action="message.hold",
                target_type="message", target_id=msg.id, group_id=seat.group_id,
                detail={"severity": severity, "escalation_id": verdict.escalation.id},
            )  # fmt: skip
    elif rank(severity) >= rank(th.review_at):
        verdict.escalation = await escalations.open_in_transaction(
            svc, s, seat, msg, kind="review", severity=severity, emergency=False,
            assessment=assessment, categories=categories, rules=rules,
        )  # fmt: skip
    elif rank(severity) >= rank(th.checkin_at):
        verdict.checkin = True
    if seat.room_kind == "group" and rank(severity) >= rank(th.checkin_at):
        verdict.flag_envelopes = await _flag(svc, s, seat, msg, severity)
    return verdict


async def _flag(
    svc: Services, s: AsyncSession, seat: Seat, msg: Message, severity: str
) -> list[Envelope]:
    """A risk flag in the facilitators' panel (shared table, see docs/facilitation.md): this
    is how facilitators are alerted. It shows kind, severity, the message and its author;
    never a clinician's note. The panel knows low, moderate and high: imminent shows as high."""
    level = "high" if rank(severity) >= rank("high") else severity
    flag = await reports.add_flag(
        s, at=svc.clock.now(), msg=msg, group_id=seat.group_id, kind="risk", severity=level
    )  # type: ignore[arg-type]
    shown = (await reports._describe(s, [flag]))[0]  # the panel's own shape for a flag
    audience = await facilitators_audience(s, seat.group_id)
    frame = encode({"type": "flag", "room": msg.room_id, "flag": shown})
    return to_facilitators(audience, frame)


async def care_again(s: AsyncSession, msg: Message) -> dict[str, Any] | None:
    """The care frame for a resent message that opened an escalation (None otherwise)."""
    esc = await store.escalation_for_message(s, msg.id)  # type: ignore[arg-type]
    if esc is None or esc.kind != "escalation":
        return None
    org = await store.org_settings(s, esc.org_id)
    return crisis.care_frame(
        msg.room_id, held=msg.status == "held", resources=crisis.resources_for(org.crisis_resources)
    )


async def after_commit(svc: Services, seat: Seat, verdict: Verdict) -> None:
    """Tell the staff dashboards (live) once the message and its escalation are committed."""
    group_id: int = seat.group_id
    if verdict.flag_envelopes:
        await svc.hub.publish(seat.room_id, verdict.flag_envelopes)
    if verdict.escalation is not None:
        svc.outbox_written()
        await escalations.publish_item(svc, verdict.escalation, seat.user_name)
    elif verdict.checkin:
        await escalations.publish_staff(
            svc,
            group_id,
            {
                "type": "checkin",
                "group": group_id,
                "member": {"id": seat.user_id, "name": seat.user_name},
                "text": f"Consider checking in with {seat.user_name}.",
            },
        )


async def hold_restricted(
    svc: Services,
    s: AsyncSession,
    seat: Seat,
    msg: Message,
    verdict: Verdict,
    restriction: str,
) -> None:
    """A member who may not post to the group now (locked, muted, slow mode, closed room) wrote
    something with risk in it: keep it from the group, keep it for staff, tell her gently."""
    if msg.status != "held":
        msg.status = "held"
        s.add(msg)
        await audit.record(
            s, at=svc.clock.now(), actor_id=None, action="message.hold",
            target_type="message", target_id=msg.id, group_id=seat.group_id,
            detail={"severity": verdict.severity, "restriction": restriction},
        )  # fmt: skip
    if verdict.care is None:
        org = await store.org_settings(s, seat.org_id)
        verdict.care = crisis.care_frame(
            msg.room_id, held=True, resources=crisis.resources_for(org.crisis_resources)
        )
