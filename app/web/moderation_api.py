"""JSON endpoints for facilitator tools and member reports, under /api/rooms/{room_id}/.

POSTs need the X-CSRF-Token header equal to the session's token (the room page exposes it).
Each handler parses, then calls one domain action; errors map in app/web/errors.py.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app import reports, room_controls, room_moderation
from app.access import enter_room
from app.accounts import SignedIn
from app.errors import Forbidden, InvalidInput
from app.web.auth import services, signed_in

CSRF_HEADER = "x-csrf-token"
JSON_BODY_MAX_BYTES = 16_384


async def _may_enter(request: Request, who: SignedIn, *, admin_acts: bool) -> None:
    """Strangers get 404 before anything else (even a CSRF error would say the room exists);
    the action checks the full permission again in its own transaction."""
    if admin_acts and who.user.is_admin:
        return
    await enter_room(services(request), who.user, int(request.path_params["room_id"]))


async def _post(request: Request, *, admin_acts: bool = True) -> tuple[SignedIn, dict[str, Any]]:
    who = await signed_in(request)
    await _may_enter(request, who, admin_acts=admin_acts)
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent or not secrets.compare_digest(sent, who.session.csrf_token):
        raise Forbidden("This page has expired. Please reload it and try again.", code="csrf")
    raw = await request.body()
    if len(raw) > JSON_BODY_MAX_BYTES:
        raise InvalidInput("That request is too large.", code="too_large")
    if not raw.strip():
        return who, {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise InvalidInput("Send a JSON object.", code="malformed_json") from None
    if not isinstance(data, dict):
        raise InvalidInput("Send a JSON object.", code="malformed_json")
    return who, data


def _ids(request: Request, *names: str) -> list[int]:
    return [int(request.path_params[n]) for n in names]


async def hide(request: Request) -> Response:
    who, data = await _post(request)
    room_id, seq = _ids(request, "room_id", "seq")
    msg = await room_moderation.hide_message(
        services(request), who.user, room_id, seq, data.get("reason")
    )
    return JSONResponse({"ok": True, "seq": msg.seq, "status": msg.status})


async def unhide(request: Request) -> Response:
    who, data = await _post(request)
    room_id, seq = _ids(request, "room_id", "seq")
    msg = await room_moderation.unhide_message(
        services(request), who.user, room_id, seq, data.get("reason")
    )
    return JSONResponse({"ok": True, "seq": msg.seq, "status": msg.status})


async def report(request: Request) -> Response:
    who, data = await _post(request, admin_acts=False)
    room_id, seq = _ids(request, "room_id", "seq")
    text = await reports.report_message(
        services(request), who.user, room_id, seq, data.get("reason")
    )
    return JSONResponse({"ok": True, "message": text})


async def mute(request: Request) -> Response:
    who, data = await _post(request)
    room_id, user_id = _ids(request, "room_id", "user_id")
    m = await room_controls.mute_member(
        services(request), who.user, room_id, user_id, data.get("minutes"), data.get("reason")
    )
    return JSONResponse({"ok": True, "muted_until": m.until.isoformat(timespec="seconds")})


async def unmute(request: Request) -> Response:
    who, _ = await _post(request)
    room_id, user_id = _ids(request, "room_id", "user_id")
    await room_controls.unmute_member(services(request), who.user, room_id, user_id)
    return JSONResponse({"ok": True, "muted_until": None})


async def remove(request: Request) -> Response:
    who, data = await _post(request)
    room_id, user_id = _ids(request, "room_id", "user_id")
    await room_moderation.remove_from_room(
        services(request), who.user, room_id, user_id, data.get("reason")
    )
    return JSONResponse({"ok": True})


async def lock(request: Request) -> Response:
    who, data = await _post(request)
    (room_id,) = _ids(request, "room_id")
    c = await room_controls.set_locked(
        services(request), who.user, room_id, data.get("locked"), data.get("reason")
    )
    return JSONResponse({"ok": True, "locked": c.locked})


async def slow_mode(request: Request) -> Response:
    who, data = await _post(request)
    (room_id,) = _ids(request, "room_id")
    c = await room_controls.set_slow_mode(services(request), who.user, room_id, data.get("seconds"))
    return JSONResponse({"ok": True, "slow_mode_seconds": c.slow_mode_seconds})


async def overview(request: Request) -> Response:
    who = await signed_in(request)
    (room_id,) = _ids(request, "room_id")
    svc = services(request)
    body = await room_controls.room_overview(svc, who.user, room_id)
    body["flags"] = await reports.list_flags(svc, who.user, room_id, "open")
    return JSONResponse(body)


async def flags(request: Request) -> Response:
    who = await signed_in(request)
    (room_id,) = _ids(request, "room_id")
    status = request.query_params.get("status", "open") or None
    shown = await reports.list_flags(services(request), who.user, room_id, status)
    return JSONResponse({"room": room_id, "flags": shown})


async def resolve(request: Request) -> Response:
    who, data = await _post(request)
    room_id, flag_id = _ids(request, "room_id", "flag_id")
    shown = await reports.resolve_flag(
        services(request), who.user, room_id, flag_id, data.get("note")
    )
    # Only the state: an admin may resolve without being shown the room's content.
    return JSONResponse({"ok": True, "id": shown["id"], "status": shown["status"]})


_R = "/api/rooms/{room_id:int}"
routes = [
    Route(f"{_R}/messages/{{seq:int}}/hide", hide, methods=["POST"]),
    Route(f"{_R}/messages/{{seq:int}}/unhide", unhide, methods=["POST"]),
    Route(f"{_R}/messages/{{seq:int}}/report", report, methods=["POST"]),
    Route(f"{_R}/members/{{user_id:int}}/mute", mute, methods=["POST"]),
    Route(f"{_R}/members/{{user_id:int}}/unmute", unmute, methods=["POST"]),
    Route(f"{_R}/members/{{user_id:int}}/remove", remove, methods=["POST"]),
    Route(f"{_R}/lock", lock, methods=["POST"]),
    Route(f"{_R}/slow-mode", slow_mode, methods=["POST"]),
    Route(f"{_R}/moderation", overview),
    Route(f"{_R}/flags", flags),
    Route(f"{_R}/flags/{{flag_id:int}}/resolve", resolve, methods=["POST"]),
]
