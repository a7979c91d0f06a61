"""/ws/staff: the live feed of the clinician dashboard and the facilitator console.

Authorised at the handshake (a clinician or facilitator of at least one group, else 404),
subscribed to the staff channel of each of those groups *before* the queue snapshot is read,
so nothing opened in between is missed. Frames carry no message text and no notes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import AsyncExitStack

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from app import accounts, escalations
from app.errors import NotAuthenticated
from app.realtime import closecodes
from app.realtime.broker import BrokerLost
from app.web import frames
from app.web.auth import SESSION_COOKIE, services
from app.web.ws import _deny

log = logging.getLogger("village.ws.staff")
STAFF_ROLES = ("clinician", "facilitator")


async def staff_socket(ws: WebSocket) -> None:
    svc = services(ws)
    origin = (ws.headers.get("origin") or "").rstrip("/")
    if origin not in svc.settings.origins:
        await _deny(ws, 403)
        return
    try:
        who = await accounts.resolve(svc, ws.cookies.get(SESSION_COOKIE))
    except NotAuthenticated:
        await _deny(ws, 403)
        return
    groups = await escalations.staff_groups(svc, who.user, STAFF_ROLES)
    if not groups:
        await _deny(ws, 404)
        return
    await ws.accept()
    out: asyncio.Queue[str | None] = asyncio.Queue(svc.settings.outbound_queue_size)

    def put(frame: str | None) -> None:
        try:
            out.put_nowait(frame)
        except asyncio.QueueFull:  # too slow: the client reconnects and reloads the queue
            with contextlib.suppress(asyncio.QueueEmpty):
                while True:
                    out.get_nowait()
            out.put_nowait(None)

    async with AsyncExitStack() as stack:
        subs = [
            await stack.enter_async_context(svc.broker.subscribe(escalations.staff_channel(g)))
            for g in groups
        ]
        put(frames.out("welcome", v=frames.PROTOCOL_VERSION, groups=groups))
        items = await escalations.queue(svc, who.user, STAFF_ROLES)
        put(frames.out("queue", items=items))
        tasks = [
            asyncio.create_task(_forward(svc, who.user, g, sub, put))
            for g, sub in zip(groups, subs, strict=True)
        ]
        tasks += [
            asyncio.create_task(_sender(ws, out)),
            asyncio.create_task(_receiver(ws, put)),
            asyncio.create_task(asyncio.sleep(accounts.session_expires_at(svc, who.session))),
        ]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
    with contextlib.suppress(Exception):
        await ws.close(code=closecodes.RESUME)


async def _forward(svc, user, group_id: int, sub, put) -> None:  # type: ignore[no-untyped-def]
    try:
        async for data in sub:
            # Checked per frame (they are rare): a removed clinician or facilitator hears nothing
            # more and is disconnected; on reconnect the handshake refuses her.
            if group_id not in await escalations.staff_groups(svc, user, STAFF_ROLES):
                break
            put(data.decode())
    except BrokerLost:
        log.warning("staff channel lost; closing so the dashboard reloads its queue")
    put(None)


async def _sender(ws: WebSocket, out: asyncio.Queue[str | None]) -> None:
    while True:
        frame = await out.get()
        if frame is None:
            return
        await ws.send_text(frame)


async def _receiver(ws: WebSocket, put) -> None:  # type: ignore[no-untyped-def]
    while True:
        try:
            msg = await ws.receive()
        except (WebSocketDisconnect, RuntimeError):
            return
        if msg["type"] == "websocket.disconnect":
            return
        try:
            command = frames.parse(msg.get("text") or "", 4096)
        except frames.BadFrame as bad:
            put(frames.error(bad.code, bad.message))
            continue
        if isinstance(command, frames.Ping):
            put(frames.out("pong", nonce=command.nonce))
        else:
            put(frames.error("unknown_type", "This socket only receives."))


routes = [WebSocketRoute("/ws/staff", staff_socket)]
