"""Attendance reports: per group (with the retention nudge list) and per member."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from app import schedule
from app.errors import InvalidInput, NotFound
from app.services import Services
from app.session_access import group_scope, managed_session, manager_scope, staff_session
from app.storage import audit
from app.storage import group_sessions as store
from app.storage import groups as group_store
from app.storage.tables import AttendanceRecord, GroupSession, User

MISSED_IN_A_ROW = 2  # two missed sessions in a row puts a member on the nudge list


@dataclass
class SessionLine:
    session: GroupSession
    local: str
    expected: int = 0
    present: int = 0
    attended: int = 0
    partial: int = 0
    missed: int = 0
    excused: int = 0


@dataclass
class GroupReport:
    timezone: str
    lines: list[SessionLine] = field(default_factory=list)
    nudges: list[tuple[int, str]] = field(default_factory=list)

    @property
    def held(self) -> int:
        return len(self.lines)

    @property
    def attendance_rate(self) -> float | None:
        """Members present / members expected (excused absences not expected)."""
        expected = sum(line.expected - line.excused for line in self.lines)
        return None if expected <= 0 else sum(line.present for line in self.lines) / expected

    @property
    def average_size(self) -> float | None:
        return None if not self.lines else sum(x.present for x in self.lines) / len(self.lines)


async def group_report(svc: Services, actor: User, group_id: int) -> GroupReport:
    tz = (await schedule.effective_settings(svc, group_id)).timezone
    report = GroupReport(tz)
    history: dict[int, list[str]] = {}
    names: dict[int, str] = {}
    async with svc.db.transaction() as s:
        await manager_scope(s, actor, group_id)
        current = {
            u.id for _, u in await group_store.members_of_group(s, group_id, roles=("member",))
        }
        sessions = await store.sessions_of_group(s, group_id, statuses=("ended",), limit=10_000)
        for gs in sessions:
            line = SessionLine(gs, schedule.local_text(gs.started_at or gs.scheduled_start, tz))
            for r, u in await store.records_of_session(s, gs.id):  # type: ignore[arg-type]
                if r.role != "member":
                    continue
                line.expected += 1
                line.present += r.minutes > 0
                setattr(line, r.status, getattr(line, r.status) + 1)
                history.setdefault(u.id, []).append(r.status)  # type: ignore[arg-type]
                names[u.id] = u.display_name  # type: ignore[index]
            report.lines.append(line)
    for uid, statuses in history.items():
        if uid in current and statuses[-MISSED_IN_A_ROW:] == ["missed"] * MISSED_IN_A_ROW:
            report.nudges.append((uid, names[uid]))
    report.nudges.sort(key=lambda n: n[1].lower())
    return report


@dataclass(frozen=True)
class HistoryLine:
    session: GroupSession
    record: AttendanceRecord
    local: str


async def member_history(
    svc: Services, actor: User, group_id: int, member_id: int
) -> tuple[User, list[HistoryLine]]:
    """A member sees her own history; the group's facilitators and admins see anyone's."""
    tz = (await schedule.effective_settings(svc, group_id)).timezone
    async with svc.db.transaction() as s:
        scope = await group_scope(s, actor, group_id)
        if member_id != actor.id and not scope.can_manage:
            raise NotFound()
        member = (await store.users_by_id(s, {member_id})).get(member_id)
        if member is None or member.org_id != actor.org_id:
            raise NotFound()
        rows = await store.records_of_user(s, group_id, member_id)
    lines = [
        HistoryLine(gs, r, schedule.local_text(gs.started_at or gs.scheduled_start, tz))
        for r, gs in rows
    ]
    return member, lines


async def history_for_care_team(svc: Services, group_id: int, member_id: int) -> list[HistoryLine]:
    """A member's attendance in one group, for a clinician already authorised to see her
    escalation (escalations.view checks that); the caller must have done so."""
    tz = (await schedule.effective_settings(svc, group_id)).timezone
    async with svc.db.transaction() as s:
        rows = await store.records_of_user(s, group_id, member_id)
    return [
        HistoryLine(gs, r, schedule.local_text(gs.started_at or gs.scheduled_start, tz))
        for r, gs in rows
    ]


async def excuse_absence(
    svc: Services, actor: User, session_id: int, member_id: int, reason: str
) -> AttendanceRecord:
    """A facilitator marks a missed session as excused (after it has ended)."""
    reason = " ".join(reason.split())[:200]
    now = svc.clock.now()
    async with svc.db.transaction() as s:
        gs = await managed_session(s, actor, session_id)
        rec = await store.record(s, session_id, member_id)
        if rec is None:
            raise NotFound()
        if rec.status not in ("missed", "excused"):
            raise InvalidInput("Only a missed session can be excused.", code="not_missed")
        rec.status, rec.excused_reason = "excused", reason
        s.add(rec)
        await audit.record(
            s,
            at=now,
            actor_id=actor.id,
            action="attendance.excuse",
            target_type="user",
            target_id=member_id,
            group_id=gs.group_id,
            detail={"session_id": session_id},
        )
    return rec


def when(at: datetime | None, tz: str) -> str:
    return at.astimezone(schedule.zone(tz)).strftime("%H:%M") if at else "—"


@dataclass(frozen=True)
class SessionDetail:
    session: GroupSession
    timezone: str
    records: list[tuple[AttendanceRecord, User]]
    can_manage: bool


async def session_detail(svc: Services, actor: User, session_id: int) -> SessionDetail:
    """A session's attendance, for the group's staff."""
    async with svc.db.transaction() as s:
        gs, scope = await staff_session(s, actor, session_id)
        records = await store.records_of_session(s, session_id)
    tz = (await schedule.effective_settings(svc, gs.group_id)).timezone
    return SessionDetail(gs, tz, records, scope.can_manage)
