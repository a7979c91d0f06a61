"""/admin/risk: the organisation's crisis resources, ladder settings and group thresholds."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app import risk_settings
from app.errors import InvalidInput
from app.web.auth import check_csrf, services, signed_in
from app.web.render import page


async def risk_page(
    request: Request, *, error: str = "", flash: str = "", status: int = 200
) -> Response:
    who = await signed_in(request)
    v = await risk_settings.view(services(request), who.user)
    return page(
        request,
        "risk_settings.html",
        v=v,
        choices=risk_settings.CHOICES,
        error=error,
        flash=flash or ("Saved." if request.query_params.get("saved") else ""),
        status=status,
    )


async def save_org(request: Request) -> Response:
    who = await signed_in(request)
    form = await check_csrf(request, who)
    try:
        await risk_settings.update_org(
            services(request),
            who.user,
            resources=form.get("resources", ""),
            ack_minutes=form.get("ack_minutes", ""),
            backup_emails=form.get("backup_emails", ""),
        )
    except InvalidInput as exc:
        return await risk_page(request, error=exc.message, status=400)
    return RedirectResponse("/admin/risk?saved=1", 303)


async def save_group(request: Request) -> Response:
    who = await signed_in(request)
    form = await check_csrf(request, who)
    try:
        await risk_settings.update_group(
            services(request), who.user, int(request.path_params["group_id"]), form
        )
    except InvalidInput as exc:
        return await risk_page(request, error=exc.message, status=400)
    return RedirectResponse("/admin/risk?saved=1", 303)


routes = [
    Route("/admin/risk", risk_page),
    Route("/admin/risk/org", save_org, methods=["POST"]),
    Route("/admin/risk/groups/{group_id:int}", save_group, methods=["POST"]),
]
