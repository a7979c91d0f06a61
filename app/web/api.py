"""JSON endpoints and health checks."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app import messages
from app.access import enter_room
from app.realtime.envelope import can_see
from app.web.auth import services, signed_in


async def room_messages(request: Request) -> Response:
    """History for a room after a sequence number, as the viewer may see it."""
    who = await signed_in(request)
    svc = services(request)
    access = await enter_room(svc, who.user, int(request.path_params["room_id"]))
    try:
        after = max(0, int(request.query_params.get("after", "0")))
    except ValueError:
        return JSONResponse({"error": "invalid", "message": "after must be a number"}, 400)
    envs = await messages.backlog(svc, access.room.id, after)  # type: ignore[arg-type]
    visible = [json.loads(e.frame) for e in envs if can_see(e.audience, who.user.id, access.role)]  # type: ignore[arg-type]
    return JSONResponse(
        {"room": access.room.id, "messages": visible[: svc.settings.resume_max_messages]}
    )


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    svc = services(request)
    db_ok = await svc.db.ping()
    broker_ok = svc.broker.healthy
    ok = db_ok and broker_ok
    body = {
        "status": "ready" if ok else "unavailable",
        "database": "ok" if db_ok else "down",
        "broker": "ok" if broker_ok else "down",
    }
    return JSONResponse(body, status_code=200 if ok else 503)


routes = [
    Route("/api/rooms/{room_id:int}/messages", room_messages),
    Route("/healthz", healthz),
    Route("/readyz", readyz),
]
