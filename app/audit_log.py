"""The admin's audit viewer: filter the append-only log and export it as CSV."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from app.errors import InvalidInput
from app.groups import require_admin
from app.services import Services
from app.storage import accounts as account_store
from app.storage import audit, audit_query
from app.storage import groups as group_store
from app.storage.tables import Group, User

PAGE_ROWS = 500
EXPORT_MAX_ROWS = 100_000
CSV_COLUMNS = (
    "id",
    "at",
    "actor_id",
    "actor",
    "action",
    "target_type",
    "target_id",
    "target",
    "group_id",
    "group",
    "detail",
)
# A spreadsheet runs a cell starting with these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class AuditFilters:
    action: str | None = None
    actor_id: int | None = None
    group_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None  # inclusive

    @classmethod
    def parse(cls, params: dict[str, str]) -> AuditFilters:
        def number(name: str) -> int | None:
            raw = (params.get(name) or "").strip()
            if not raw:
                return None
            if not raw.isdigit():
                raise InvalidInput(f"{name.replace('_', ' ').capitalize()} must be a number.")
            return int(raw)

        def day(name: str) -> date | None:
            raw = (params.get(name) or "").strip()
            if not raw:
                return None
            try:
                return date.fromisoformat(raw)
            except ValueError:
                raise InvalidInput(
                    "Dates must look like 2026-11-26.", code="invalid_date"
                ) from None

        f = cls(
            action=(params.get("action") or "").strip() or None,
            actor_id=number("actor_id"),
            group_id=number("group_id"),
            date_from=day("from"),
            date_to=day("to"),
        )
        if f.date_from and f.date_to and f.date_to < f.date_from:
            raise InvalidInput("The end date is before the start date.", code="invalid_date")
        return f

    @property
    def since(self) -> datetime | None:
        return datetime.combine(self.date_from, time(), UTC) if self.date_from else None

    @property
    def before(self) -> datetime | None:
        if self.date_to is None:
            return None
        return datetime.combine(self.date_to + timedelta(days=1), time(), UTC)


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    actor: User | None
    action: str
    target_type: str
    target_id: int | None
    target: str
    group: Group | None
    detail: dict

    @property
    def detail_text(self) -> str:
        return json.dumps(self.detail, ensure_ascii=False, sort_keys=True) if self.detail else ""


async def search(
    svc: Services, admin: User, filters: AuditFilters, *, limit: int | None = PAGE_ROWS
) -> list[AuditRow]:
    require_admin(admin)
    async with svc.db.transaction() as s:
        rows = await audit_query.search(
            s,
            org_id=admin.org_id,
            action=filters.action,
            actor_id=filters.actor_id,
            group_id=filters.group_id,
            since=filters.since,
            before=filters.before,
            limit=limit,
        )
        target_users = await audit_query.users_by_id(
            s, {e.target_id for e, _, _ in rows if e.target_type == "user" and e.target_id}
        )
    out = []
    for e, actor, group in rows:
        target = ""
        if e.target_type == "user" and e.target_id in target_users:
            target = target_users[e.target_id].display_name  # type: ignore[index]
        out.append(
            AuditRow(
                e.id,
                e.at,
                actor,
                e.action,
                e.target_type,
                e.target_id,
                target,
                group,
                e.detail,  # type: ignore[arg-type]
            )
        )
    return out


async def choices(svc: Services, admin: User) -> tuple[list[str], list[User], list[Group]]:
    """What the filter form offers: actions seen, the organisation's people and groups."""
    require_admin(admin)
    async with svc.db.transaction() as s:
        return (
            await audit_query.actions(s),
            await account_store.users_of_org(s, admin.org_id),
            await group_store.groups_of_org(s, admin.org_id),
        )


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


async def export_csv(svc: Services, admin: User, filters: AuditFilters) -> str:
    """The filtered log as CSV (the export itself is audited: it copies data out)."""
    rows = await search(svc, admin, filters, limit=EXPORT_MAX_ROWS)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        cells = (
            r.id,
            r.at.isoformat(timespec="seconds"),
            r.actor.id if r.actor else "",
            r.actor.display_name if r.actor else "system",
            r.action,
            r.target_type,
            r.target_id if r.target_id is not None else "",
            r.target,
            r.group.id if r.group else "",
            r.group.name if r.group else "",
            r.detail_text,
        )
        writer.writerow([safe_cell(c) for c in cells])
    async with svc.db.transaction() as s:
        await audit.record(
            s,
            at=svc.clock.now(),
            actor_id=admin.id,
            action="audit.export",
            target_type="audit_log",
            detail={"rows": len(rows), **{k: str(v) for k, v in vars(filters).items() if v}},
        )
    return buf.getvalue()
