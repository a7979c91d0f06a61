"""/admin/audit (filterable table) and /admin/audit.csv (the same filters, as CSV)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app import audit_log
from app.errors import InvalidInput
from app.groups import require_admin
from app.web.auth import services, signed_in
from app.web.render import page


async def audit_page(request: Request) -> Response:
    who = await signed_in(request)
    require_admin(who.user)
    svc = services(request)
    params = dict(request.query_params)
    actions, users, groups = await audit_log.choices(svc, who.user)
    try:
        filters = audit_log.AuditFilters.parse(params)
    except InvalidInput as exc:
        return page(
            request,
            "audit.html",
            status=400,
            error=exc.message,
            rows=[],
            params=params,
            actions=actions,
            users=users,
            groups=groups,
            limit=audit_log.PAGE_ROWS,
        )
    rows = await audit_log.search(svc, who.user, filters)
    return page(
        request,
        "audit.html",
        rows=rows,
        params=params,
        actions=actions,
        users=users,
        groups=groups,
        limit=audit_log.PAGE_ROWS,
        query=request.url.query,
    )


async def audit_csv(request: Request) -> Response:
    who = await signed_in(request)
    require_admin(who.user)
    filters = audit_log.AuditFilters.parse(dict(request.query_params))
    body = await audit_log.export_csv(services(request), who.user, filters)
    stamp = services(request).clock.now().strftime("%Y%m%d-%H%M")
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="village-audit-{stamp}.csv"',
            "Cache-Control": "no-store",
        },
    )


routes = [
    Route("/admin/audit", audit_page),
    Route("/admin/audit.csv", audit_csv),
]
