"""The clinician workspace (triage queue, escalation page, actions), the member's care-team
view, releasing a held message, and the admins' list of failed notifications."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from app import attendance_reports, escalations, groups
from app.errors import NotFound, VillageError
from app.storage import escalations as store
from app.web.auth import check_csrf, services, signed_in
from app.web.render import page


async def triage_page(request: Request) -> Response:
    who = await signed_in(request)
    items = await escalations.queue(services(request), who.user)
    return page(request, "clinician.html", items=items)


async def queue_api(request: Request) -> Response:
    who = await signed_in(request)
    items = await escalations.queue(services(request), who.user)
    return JSONResponse({"items": items})


async def escalation_page(request: Request, *, error: str = "", status: int = 200) -> Response:
    who = await signed_in(request)
    svc = services(request)
    v = await escalations.view(svc, who.user, int(request.path_params["id"]))
    attendance = await attendance_reports.history_for_care_team(
        svc,
        v.escalation.group_id,
        v.member.id,  # type: ignore[arg-type]
    )
    return page(
        request,
        "escalation.html",
        v=v,
        attendance=attendance,
        outcomes=escalations.OUTCOMES,
        error=error,
        status=status,
    )


def _action(name: str):  # type: ignore[no-untyped-def]
    async def handler(request: Request) -> Response:
        who = await signed_in(request)
        form = await check_csrf(request, who)
        svc = services(request)
        escalation_id = int(request.path_params["id"])
        try:
            if name == "acknowledge":
                await escalations.acknowledge(svc, who.user, escalation_id)
            elif name == "contacted":
                await escalations.mark_contacted(svc, who.user, escalation_id)
            elif name == "resolve":
                await escalations.resolve(
                    svc, who.user, escalation_id, form.get("outcome", ""), form.get("note", "")
                )
            elif name == "not-a-risk":
                await escalations.not_a_risk(svc, who.user, escalation_id, form.get("note", ""))
            elif name == "private-room":
                room = await escalations.open_private_room(svc, who.user, escalation_id)
                return RedirectResponse(f"/rooms/{room.id}", 303)
        except NotFound:
            raise
        except VillageError as exc:
            return await escalation_page(request, error=exc.message, status=exc.status)
        return RedirectResponse(f"/escalations/{escalation_id}", 303)

    return handler


async def release(request: Request) -> Response:
    who = await signed_in(request)
    await check_csrf(request, who)
    msg = await escalations.release_held(
        services(request), who.user, int(request.path_params["message_id"])
    )
    return RedirectResponse(f"/rooms/{msg.room_id}", 303)


async def care_page(request: Request) -> Response:
    """The member's own view: the private conversations the care team opened with her."""
    who = await signed_in(request)
    svc = services(request)
    rooms = await escalations.private_rooms(svc, who.user)
    names = {mg.group.id: mg.group.name for mg in await groups.my_groups(svc, who.user)}
    return page(request, "care.html", rooms=[(r, names.get(r.group_id, "")) for r in rooms])


async def failed_notifications(request: Request) -> Response:
    who = await signed_in(request)
    groups.require_admin(who.user)
    svc = services(request)
    async with svc.db.transaction() as s:
        failed = await store.failed_notifications(s, who.user.org_id)
    return page(request, "notifications.html", failed=failed)


routes = [
    Route("/clinician", triage_page),
    Route("/api/escalations", queue_api),
    Route("/escalations/{id:int}", escalation_page),
    *[
        Route(f"/escalations/{{id:int}}/{name}", _action(name), methods=["POST"])
        for name in ("acknowledge", "contacted", "resolve", "not-a-risk", "private-room")
    ],
    Route("/messages/{message_id:int}/release", release, methods=["POST"]),
    Route("/care", care_page),
    Route("/admin/notifications", failed_notifications),
]
