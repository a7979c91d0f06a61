"""Billing export: one row per member per held session, as a payer asks for peer services.

HCPCS H0038 ("self-help/peer services, per 15 minutes") with modifier HQ (group setting).
Units follow `billing_unit_rule`:

- `cms_8_minute` (default): units = floor((minutes + 7) / 15), so 8-22 minutes is one unit,
  23-37 two, and under 8 minutes none (the CMS "8-minute rule" for timed codes).
- `whole_units`: units = floor(minutes / 15), only completed 15-minute blocks.

Minutes are the member's own presence within the session (union of her connections, whole
minutes rounded down). Group size is the number of members present; a row is flagged when
members present exceed `facilitator_ratio` times the facilitators present.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from app import schedule
from app.services import Services
from app.session_access import manager_scope
from app.storage import group_sessions as store
from app.storage.tables import User

CODE = "H0038"
GROUP_MODIFIER = "HQ"
SETTING = "telehealth – text"
COLUMNS = (
    "date",
    "start",
    "end",
    "member_id",
    "member",
    "minutes",
    "units",
    "code",
    "modifier",
    "group_size",
    "facilitator",
    "credential",
    "setting",
    "status",
    "note_signed",
    "ratio_exceeded",
)


def units(minutes: int, rule: str) -> int:
    if minutes <= 0:
        return 0
    if rule == "whole_units":
        return minutes // 15
    return (minutes + 7) // 15


@dataclass(frozen=True)
class BillingRow:
    values: dict[str, str]


async def rows(svc: Services, actor: User, group_id: int) -> list[BillingRow]:
    rule = svc.settings.billing_unit_rule
    ratio = svc.settings.facilitator_ratio
    tz = schedule.zone((await schedule.effective_settings(svc, group_id)).timezone)
    out: list[BillingRow] = []
    async with svc.db.transaction() as s:
        await manager_scope(s, actor, group_id)
        sessions = await store.sessions_of_group(s, group_id, statuses=("ended",), limit=10_000)
        for gs in sessions:
            assert gs.started_at is not None and gs.ended_at is not None
            records = await store.records_of_session(s, gs.id)  # type: ignore[arg-type]
            present = [(r, u) for r, u in records if r.role == "member" and r.minutes > 0]
            facilitators = sum(1 for r, _ in records if r.role == "facilitator" and r.minutes > 0)
            note = await store.note_of_session(s, gs.id)  # type: ignore[arg-type]
            lead = await _facilitator(s, gs.started_by, note)
            size = len(present)
            exceeded = size > ratio * max(1, facilitators)
            start, end = gs.started_at.astimezone(tz), gs.ended_at.astimezone(tz)
            for r, u in present:
                out.append(
                    BillingRow(
                        {
                            "date": start.strftime("%Y-%m-%d"),
                            "start": start.strftime("%H:%M"),
                            "end": end.strftime("%H:%M"),
                            "member_id": str(u.id),
                            "member": u.display_name,
                            "minutes": str(r.minutes),
                            "units": str(units(r.minutes, rule)),
                            "code": CODE,
                            "modifier": GROUP_MODIFIER,
                            "group_size": str(size),
                            "facilitator": lead[0],
                            "credential": lead[1],
                            "setting": SETTING,
                            "status": r.status,
                            "note_signed": "yes" if note and note.signed_at else "no",
                            "ratio_exceeded": "yes" if exceeded else "no",
                        }
                    )
                )
    # Stable order on every database (collations differ): by session, then by name.
    return sorted(
        out, key=lambda r: (r.values["date"], r.values["start"], r.values["member"].lower())
    )


async def _facilitator(s, started_by: int | None, note) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    # The signer of the note is the rendering provider; before signing, who ran the session.
    if note is not None and note.signed_at is not None:
        return note.signer_name, note.signer_credential
    users = await store.users_by_id(s, {started_by} if started_by else set())
    u = users.get(started_by) if started_by else None
    return (u.display_name, u.credential) if u else ("", "")


def _cell(value: str) -> str:
    # A display name like "=HYPERLINK(...)" must not run as a formula in a spreadsheet.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def to_csv(billing_rows: list[BillingRow]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in billing_rows:
        writer.writerow({k: _cell(v) for k, v in row.values.items()})
    return buf.getvalue()
