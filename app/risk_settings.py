"""The organisation admin's risk settings: crisis resources, acknowledgement timeout, on-call
backup clinicians (per organisation) and the severity thresholds of each group."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app import crisis, groups
from app.errors import InvalidInput, NotFound
from app.services import Services
from app.storage import audit
from app.storage import escalations as store
from app.storage import groups as group_store
from app.storage.tables import Group, GroupRiskThresholds, OrgRiskSettings, User

LEVELS = ("low", "moderate", "high", "imminent")
NEVER = "never"
# Checking in and holding may be turned off for a group; review and escalation may not.
CHOICES = {
    "checkin_at": (*LEVELS, NEVER),
    "review_at": LEVELS,
    "escalate_at": ("moderate", "high", "imminent"),
    "hold_at": ("high", "imminent", NEVER),
}
ACK_MINUTES_RANGE = (1, 120)
RESOURCES_MAX = 12


@dataclass
class RiskSettingsView:
    org: OrgRiskSettings
    resources: list[dict[str, str]]
    groups: list[tuple[Group, GroupRiskThresholds]]


async def view(svc: Services, actor: User) -> RiskSettingsView:
    groups.require_admin(actor)
    async with svc.db.transaction() as s:
        org = await store.org_settings(s, actor.org_id)
        rows = [
            (g, await store.thresholds(s, g.id))  # type: ignore[arg-type]
            for g in await group_store.groups_of_org(s, actor.org_id)
        ]
    return RiskSettingsView(org, crisis.resources_for(org.crisis_resources), rows)


def parse_resources(text: str) -> list[dict[str, str]]:
    """One resource a line: `Name | how to reach it | optional link (tel:…, https://…)`."""
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) < 2 or not parts[0] or not parts[1]:
            raise InvalidInput(
                f"Line {n}: write 'Name | how to reach it | optional link'.", code="bad_resource"
            )
        href = parts[2] if len(parts) > 2 else ""
        if href and not href.startswith(("tel:", "sms:", "https://", "http://")):
            raise InvalidInput(
                f"Line {n}: a link must start with tel:, sms: or https://.", code="bad_resource"
            )
        out.append({"name": parts[0][:120], "contact": parts[1][:120], "href": href[:300]})
    if len(out) > RESOURCES_MAX:
        raise InvalidInput(f"List at most {RESOURCES_MAX} resources.", code="bad_resource")
    return out


async def update_org(
    svc: Services, actor: User, *, resources: str, ack_minutes: str, backup_emails: str
) -> None:
    groups.require_admin(actor)
    parsed = parse_resources(resources)
    minutes: int | None = None
    if ack_minutes.strip():
        try:
            minutes = int(ack_minutes)
        except ValueError:
            minutes = -1
        low, high = ACK_MINUTES_RANGE
        if not low <= minutes <= high:
            raise InvalidInput(
                f"The acknowledgement time must be {low} to {high} minutes.", code="bad_timeout"
            )
    emails = [e.strip().lower() for e in backup_emails.replace(",", "\n").splitlines()]
    emails = [e for e in emails if e]
    for e in emails:
        if "@" not in e or len(e) > 320:
            raise InvalidInput(f"{e[:60]!r} is not an email address.", code="bad_email")
    async with svc.db.transaction() as s:
        row = await s.get(OrgRiskSettings, actor.org_id) or OrgRiskSettings(org_id=actor.org_id)
        row.crisis_resources, row.ack_timeout_minutes, row.backup_emails = parsed, minutes, emails
        s.add(row)
        await audit.record(
            s,
            at=svc.clock.now(),
            actor_id=actor.id,
            action="risk.org_settings",
            target_type="organisation",
            target_id=actor.org_id,
            detail={"resources": len(parsed), "ack_minutes": minutes, "backups": len(emails)},
        )


async def update_group(svc: Services, actor: User, group_id: int, form: dict[str, str]) -> None:
    groups.require_admin(actor)
    values: dict[str, Any] = {}
    for key, allowed in CHOICES.items():
        value = form.get(key, "")
        if value not in allowed:
            raise InvalidInput(f"{key}: choose one of {', '.join(allowed)}.", code="bad_threshold")
        values[key] = value
    order = {v: i for i, v in enumerate((*LEVELS, NEVER))}
    if order[values["review_at"]] > order[values["escalate_at"]]:
        raise InvalidInput(
            "The review threshold cannot be above the escalation threshold.", code="bad_threshold"
        )
    async with svc.db.transaction() as s:
        group = await group_store.group_by_id(s, group_id)
        if group is None or group.org_id != actor.org_id:
            raise NotFound()
        row = await s.get(GroupRiskThresholds, group_id) or GroupRiskThresholds(group_id=group_id)
        for key, value in values.items():
            setattr(row, key, value)
        s.add(row)
        await audit.record(
            s,
            at=svc.clock.now(),
            actor_id=actor.id,
            action="risk.group_thresholds",
            target_type="group",
            target_id=group_id,
            group_id=group_id,
            detail=values,
        )
