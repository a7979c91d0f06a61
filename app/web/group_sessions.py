"""Pages and endpoints for group sessions: schedule, run, notes, reports, billing export."""

from __future__ import annotations

from datetime import date, time

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from app import attendance_reports, billing, charts, group_sessions, schedule, session_notes
from app.access import enter_room
from app.errors import InvalidInput, NotFound
from app.session_access import group_scope
from app.web.auth import check_csrf, services, signed_in
from app.web.render import page


def _int(form: dict[str, str], key: str, label: str, default: int | None = None) -> int:
    raw = form.get(key, "").strip()
    if not raw and default is not None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(f"{label} must be a whole number.") from None


def _gid(request: Request) -> int:
    return int(request.path_params["group_id"])


def _sid(request: Request) -> int:
    return int(request.path_params["session_id"])


async def sessions_page(request: Request) -> Response:
    """Upcoming sessions for every member; schedule management for facilitators/admins."""
    who = await signed_in(request)
    svc = services(request)
    gid = _gid(request)
    async with svc.db.transaction() as s:
        scope = await group_scope(s, who.user, gid)
    eff = await schedule.effective_settings(svc, gid)
    upcoming = await schedule.upcoming(svc, who.user, gid, limit=30)
    return page(
        request,
        "group_sessions.html",
        group=scope.group,
        scope=scope,
        eff=eff,
        upcoming=[(gs, schedule.local_text(gs.scheduled_start, eff.timezone)) for gs in upcoming],
        policies=schedule.ROOM_POLICIES,
    )


async def schedule_submit(request: Request) -> Response:
    who = await signed_in(request)
    form = await check_csrf(request, who)
    try:
        first_day = date.fromisoformat(form.get("date", ""))
        start = time.fromisoformat(form.get("time", ""))
    except ValueError:
        raise InvalidInput("Choose a date and a start time.", code="invalid_time") from None
    await schedule.schedule_sessions(
        services(request),
        who.user,
        _gid(request),
        first_day=first_day,
        start=start,
        minutes=_int(form, "minutes", "Length", 90),
        topic=form.get("topic", ""),
        max_size=_int(form, "max_size", "Maximum size", 12),
        weeks=_int(form, "weeks", "Repeat", 1),
    )
    return RedirectResponse(f"/groups/{_gid(request)}/sessions", 303)


async def settings_submit(request: Request) -> Response:
    who = await signed_in(request)
    form = await check_csrf(request, who)
    await schedule.update_group_settings(
        services(request),
        who.user,
        _gid(request),
        timezone=form.get("timezone", "").strip(),
        room_open_policy=form.get("room_open_policy", ""),
    )
    return RedirectResponse(f"/groups/{_gid(request)}/sessions", 303)


async def cancel_submit(request: Request) -> Response:
    who = await signed_in(request)
    await check_csrf(request, who)
    gs = await schedule.cancel_session(services(request), who.user, _sid(request))
    return RedirectResponse(f"/groups/{gs.group_id}/sessions", 303)


async def _room_of(request: Request, group_id: int) -> str:
    """Back to the room; an admin who is not in the group goes to the sessions page."""
    from app.groups import my_group

    try:
        mg = await my_group(services(request), (await signed_in(request)).user, group_id)
    except NotFound:
        return f"/groups/{group_id}/sessions"
    return f"/rooms/{mg.room_id}"


async def start_submit(request: Request) -> Response:
    who = await signed_in(request)
    await check_csrf(request, who)
    gs = await group_sessions.start_session(services(request), who.user, _sid(request))
    return RedirectResponse(await _room_of(request, gs.group_id), 303)


async def start_now_submit(request: Request) -> Response:
    who = await signed_in(request)
    await check_csrf(request, who)
    gs = await group_sessions.start_unscheduled(services(request), who.user, _gid(request))
    return RedirectResponse(await _room_of(request, gs.group_id), 303)


async def end_submit(request: Request) -> Response:
    who = await signed_in(request)
    await check_csrf(request, who)
    gs = await group_sessions.end_session(services(request), who.user, _sid(request))
    return RedirectResponse(f"/group-sessions/{gs.id}", 303)


async def session_page(request: Request) -> Response:
    """Attendance of one session, its note (draft form or signed view) and addenda."""
    who = await signed_in(request)
    svc = services(request)
    detail = await attendance_reports.session_detail(svc, who.user, _sid(request))
    note = await session_notes.view(svc, who.user, _sid(request))
    tz = detail.timezone
    return page(
        request,
        "group_session.html",
        d=detail,
        nv=note,
        tz=tz,
        local=lambda at: schedule.local_text(at, tz) if at else "—",
        hm=lambda at: attendance_reports.when(at, tz),
    )


async def note_submit(request: Request) -> Response:
    who = await signed_in(request)
    form = await check_csrf(request, who)
    svc, sid = services(request), _sid(request)
    await session_notes.save_note(
        svc,
        who.user,
        sid,
        topic=form.get("topic", ""),
        narrative=form.get("narrative", ""),
        response=form.get("response", ""),
        plan=form.get("plan", ""),
    )
    if form.get("action") == "sign":
        await session_notes.sign_note(svc, who.user, sid)
    return RedirectResponse(f"/group-sessions/{sid}#note", 303)


async def addendum_submit(request: Request) -> Response:
    who = await signed_in(request)
    form = await check_csrf(request, who)
    await session_notes.add_addendum(
        services(request), who.user, _sid(request), form.get("body", "")
    )
    return RedirectResponse(f"/group-sessions/{_sid(request)}#note", 303)


async def excuse_submit(request: Request) -> Response:
    who = await signed_in(request)
    form = await check_csrf(request, who)
    await attendance_reports.excuse_absence(
        services(request),
        who.user,
        _sid(request),
        _int(form, "member_id", "Member"),
        form.get("reason", ""),
    )
    return RedirectResponse(f"/group-sessions/{_sid(request)}", 303)


async def report_page(request: Request) -> Response:
    who = await signed_in(request)
    svc, gid = services(request), _gid(request)
    report = await attendance_reports.group_report(svc, who.user, gid)
    async with svc.db.transaction() as s:
        scope = await group_scope(s, who.user, gid)
    points = [
        charts.Point(
            (line.session.started_at or line.session.scheduled_start).strftime("%d %b"),
            line.present,
            line.expected - line.excused,
        )
        for line in report.lines
    ]
    return page(
        request,
        "group_report.html",
        group=scope.group,
        report=report,
        chart=charts.attendance_svg(points),
    )


async def billing_csv(request: Request) -> Response:
    who = await signed_in(request)
    gid = _gid(request)
    rows = await billing.rows(services(request), who.user, gid)
    return Response(
        billing.to_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="group-{gid}-billing.csv"',
            "Cache-Control": "no-store",
        },
    )


async def history_page(request: Request) -> Response:
    who = await signed_in(request)
    svc, gid = services(request), _gid(request)
    member, lines = await attendance_reports.member_history(
        svc, who.user, gid, int(request.path_params["user_id"])
    )
    tz = (await schedule.effective_settings(svc, gid)).timezone
    return page(
        request,
        "member_history.html",
        member=member,
        lines=lines,
        group_id=gid,
        hm=lambda at: attendance_reports.when(at, tz),
    )


async def my_history(request: Request) -> Response:
    who = await signed_in(request)
    return RedirectResponse(f"/groups/{_gid(request)}/attendance/{who.user.id}", 303)


async def room_panel(request: Request) -> Response:
    """JSON for the room's session panel (countdown, controls, read-only state, roster)."""
    who = await signed_in(request)
    svc = services(request)
    access = await enter_room(svc, who.user, int(request.path_params["room_id"]))
    panel = await group_sessions.room_panel(svc, access)
    return JSONResponse(panel, headers={"Cache-Control": "no-store"})


routes = [
    Route("/groups/{group_id:int}/sessions", sessions_page),
    Route("/groups/{group_id:int}/sessions", schedule_submit, methods=["POST"]),
    Route("/groups/{group_id:int}/sessions/start-now", start_now_submit, methods=["POST"]),
    Route("/groups/{group_id:int}/session-settings", settings_submit, methods=["POST"]),
    Route("/groups/{group_id:int}/report", report_page),
    Route("/groups/{group_id:int}/billing.csv", billing_csv),
    Route("/groups/{group_id:int}/attendance/{user_id:int}", history_page),
    Route("/groups/{group_id:int}/my-attendance", my_history),
    Route("/group-sessions/{session_id:int}", session_page),
    Route("/group-sessions/{session_id:int}/start", start_submit, methods=["POST"]),
    Route("/group-sessions/{session_id:int}/end", end_submit, methods=["POST"]),
    Route("/group-sessions/{session_id:int}/cancel", cancel_submit, methods=["POST"]),
    Route("/group-sessions/{session_id:int}/note", note_submit, methods=["POST"]),
    Route("/group-sessions/{session_id:int}/addenda", addendum_submit, methods=["POST"]),
    Route("/group-sessions/{session_id:int}/excuse", excuse_submit, methods=["POST"]),
    Route("/api/rooms/{room_id:int}/session", room_panel),
]
