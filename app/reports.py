"""Member reports and the facilitators' flags panel.

Any member may report a message. The reporter's identity is stored with the report and shown
to the group's facilitators (and admins in the audit log) only: the reported member and other
members never receive it in any frame, page or response.

The flags table is shared with the risk path: it adds rows of kind "risk" with a severity
(see docs/facilitation.md). Flags never carry clinicians' notes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from app.access import enter_room
from app.errors import Conflict, InvalidInput, NotFound
from app.facilitator_access import (
    clean_reason,
    facilitators_audience,
    require_facilitator,
    to_facilitators,
)
from app.messages import encode
from app.services import Services
from app.storage import audit
from app.storage import facilitation as store
from app.storage.tables import Flag, Message, MessageReport, User

REPORT_THANKS = (
    "Thank you. The facilitators will look at it. "
    "Nobody else is told that you reported it, including the person who wrote it."
)
FLAG_STATUSES = ("open", "resolved")
SEVERITY_ORDER = {"high": 0, "moderate": 1, "low": 2, "": 3}


async def add_flag(
    s: AsyncSession,
    *,
    at: datetime,
    msg: Message,
    group_id: int,
    kind: str,
    severity: str = "",
    report_id: int | None = None,
) -> Flag:
    """Insert a flag for a message in the caller's transaction (reports and the risk path)."""
    flag = Flag(
        group_id=group_id,
        room_id=msg.room_id,
        kind=kind,
        severity=severity,
        message_id=msg.id,
        member_id=msg.sender_id,
        report_id=report_id,
        created_at=at,
    )
    s.add(flag)
    await s.flush()
    return flag


async def report_message(
    svc: Services, reporter: User, room_id: int, seq: object, reason: object = ""
) -> str:
    """Report a message to the facilitators; returns the thank-you text. Reporting the same
    message twice is accepted once."""
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
        raise InvalidInput("seq must be a positive number.", code="invalid_seq")
    why = clean_reason(reason)
    access = await enter_room(svc, reporter, room_id)
    if access.room.kind != "group":
        raise NotFound()  # private follow-up rooms are the clinicians' to handle
    now = svc.clock.now()
    try:
        async with svc.db.transaction() as s:
            found = await store.message_by_seq(s, room_id, seq)
            # A held message is visible to its sender and staff only: others cannot see it.
            if found is None or (
                found[0].status == "held"
                and found[0].sender_id != reporter.id
                and not access.is_staff
            ):
                raise NotFound("That message does not exist.")
            msg, _ = found
            if msg.sender_id == reporter.id:
                raise InvalidInput("You cannot report your own message.", code="own_message")
            if await store.report_by(s, msg.id, reporter.id) is not None:  # type: ignore[arg-type]
                return REPORT_THANKS
            report = MessageReport(
                message_id=msg.id,  # type: ignore[arg-type]
                reporter_id=reporter.id,  # type: ignore[arg-type]
                reason=why,
                created_at=now,
            )
            s.add(report)
            await s.flush()
            flag = await add_flag(
                s,
                at=now,
                msg=msg,
                group_id=access.group.id,
                kind="report",
                report_id=report.id,  # type: ignore[arg-type]
            )
            await audit.record(
                s,
                at=now,
                actor_id=reporter.id,
                action="message.report",
                target_type="message",
                target_id=msg.id,
                group_id=access.group.id,
                detail={"room_id": room_id, "seq": seq, "flag_id": flag.id},
            )
            shown = await _describe(s, [flag])
            audience = await facilitators_audience(s, access.group.id)  # type: ignore[arg-type]
    except IntegrityError:
        return REPORT_THANKS  # the same report raced in twice; one is kept
    frame = encode({"type": "flag", "room": room_id, "flag": shown[0]})
    await svc.hub.publish(room_id, to_facilitators(audience, frame))
    return REPORT_THANKS


async def list_flags(
    svc: Services, actor: User, room_id: int, status: str | None = "open"
) -> list[dict[str, Any]]:
    """The flags panel: highest severity first, then newest (the group's facilitators only)."""
    if status is not None and status not in FLAG_STATUSES:
        raise InvalidInput("status must be open or resolved.", code="invalid_status")
    async with svc.db.transaction() as s:
        await require_facilitator(s, actor, room_id, allow_admin=False)
        flags = await store.flags_of_room(s, room_id, status)
        shown = await _describe(s, flags)
    shown.sort(key=lambda f: (SEVERITY_ORDER.get(f["severity"], 3), -f["id"]))
    return shown


async def resolve_flag(
    svc: Services, actor: User, room_id: int, flag_id: int, note: object = ""
) -> dict[str, Any]:
    why = clean_reason(note)
    now = svc.clock.now()
    async with svc.db.transaction() as s:
        mr = await require_facilitator(s, actor, room_id)
        flag = await store.flag_by_id(s, flag_id)
        if flag is None or flag.room_id != room_id:
            raise NotFound("That flag does not exist.")
        if flag.status == "resolved":
            raise Conflict("This flag is already resolved.", code="already_resolved")
        flag.status, flag.resolved_at, flag.resolved_by = "resolved", now, actor.id
        s.add(flag)
        await audit.record(
            s,
            at=now,
            actor_id=actor.id,
            action="flag.resolve",
            target_type="flag",
            target_id=flag_id,
            group_id=mr.group_id,
            detail={"kind": flag.kind, "note": why} if why else {"kind": flag.kind},
        )
        shown = (await _describe(s, [flag]))[0]
        audience = await facilitators_audience(s, mr.group_id)
    frame = encode({"type": "flag", "room": room_id, "flag": shown})
    await svc.hub.publish(room_id, to_facilitators(audience, frame))
    return shown


async def _describe(s: AsyncSession, flags: list[Flag]) -> list[dict[str, Any]]:
    """Flags as facilitators see them (including who reported: facilitators only)."""
    out = []
    for f in flags:
        msg = await store.message_with_sender(s, f.message_id) if f.message_id else None
        report = await store.report_by_id(s, f.report_id) if f.report_id else None
        ids = {i for i in (f.member_id, report.reporter_id if report else None) if i}
        users = await store.users_by_id(s, ids)
        member = users.get(f.member_id) if f.member_id else None
        reporter = users.get(report.reporter_id) if report else None
        out.append(
            {
                "id": f.id,
                "kind": f.kind,
                "severity": f.severity,
                "status": f.status,
                "created_at": f.created_at.isoformat(timespec="seconds"),
                "member": {"id": member.id, "name": member.display_name} if member else None,
                "message": (
                    {"seq": msg[0].seq, "status": msg[0].status, "body": msg[0].body}
                    if msg
                    else None
                ),
                "report": (
                    {
                        "reason": report.reason,
                        "reporter": {"id": reporter.id, "name": reporter.display_name}
                        if reporter
                        else None,
                    }
                    if report
                    else None
                ),
            }
        )
    return out
