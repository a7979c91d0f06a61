"""The one WebSocket endpoint: /ws/rooms/{room_id}?after=<last seen seq>.

Authenticate and authorise at the handshake, accept, then receive in the handler's own task
while the connection's writer (a task only while frames are pending) sends; either ending
ends both. Idle sockets are most sockets, so each holds as little as it can. The other place
(with app/web/errors.py) that maps domain errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from urllib.parse import parse_qs

from sqlalchemy.exc import DBAPIError
from starlette.requests import cookie_parser
from starlette.responses import Response
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from app import attendance, handshake, messages
from app.access import Seat
from app.errors import AgreementsRequired, NotAuthenticated, NotFound, VillageError
from app.handshake import Admitted
from app.realtime import closecodes
from app.realtime.hub import Connection
from app.services import Services
from app.web import frames
from app.web.auth import SESSION_COOKIE, services

log = logging.getLogger("village.ws")
BUSY_REASON = "server busy: reconnect in a moment"


async def _deny(ws: WebSocket, status: int) -> None:
    # Refuse before accept: the client sees an HTTP status and no room content.
    if "websocket.http.response" in ws.scope.get("extensions", {}):
        await ws.send_denial_response(Response(status_code=status))
    else:
        await ws.close(code=closecodes.ORIGIN_REFUSED)


def _after(ws: WebSocket) -> int | None:
    # Read from the scope, not ws.query_params/headers/cookies: Starlette caches those parsed
    # copies on the socket for its whole life (~1 KB per idle connection).
    raw = next(iter(parse_qs(ws.scope.get("query_string", b"").decode()).get("after", [])), None)
    if raw is None or raw == "":
        return None
    try:
        return max(0, int(raw))
    except ValueError:
        return None


def _header(ws: WebSocket, name: bytes) -> str:
    return next((v.decode("latin-1") for k, v in ws.scope["headers"] if k == name), "")


async def _admit(svc: Services, ws: WebSocket) -> Admitted | None:
    """The socket's seat and its session's remaining life, or None once refused. Only ids
    and scalars outlive this call: no ORM row (user, session, room, group, membership) is
    kept for the life of the socket."""
    origin = _header(ws, b"origin").rstrip("/")
    if origin not in svc.settings.origins:
        log.warning("websocket refused: origin %r not allowed", origin[:100])
        await _deny(ws, 403)
        return None
    try:
        token = cookie_parser(_header(ws, b"cookie")).get(SESSION_COOKIE)
        return await handshake.admit(svc, token, int(ws.path_params["room_id"]))
    except NotAuthenticated:
        await _deny(ws, 403)
    except AgreementsRequired:
        await _deny(ws, 403)
    except NotFound:
        await _deny(ws, 404)
    except handshake.ServerBusy:
        # Accepted only to say so: a browser sees a close code, never an HTTP status.
        await ws.accept()
        await ws.close(code=closecodes.TRY_AGAIN, reason=BUSY_REASON)
    return None


async def room_socket(ws: WebSocket) -> None:
    svc = services(ws)
    admitted = await _admit(svc, ws)
    if admitted is None:
        return
    seat, session_secs = admitted.seat, admitted.session_secs
    await ws.accept()
    conn = Connection(
        user_id=seat.user_id,
        room_id=seat.room_id,
        group_id=seat.group_id,
        card=seat.card,
        queue_size=svc.settings.outbound_queue_size,
    )
    await svc.hub.join(conn)
    interval = None
    # This task is the receiver; frames go out through the connection's own writer task,
    # which exists only while there is something to write. When the hub closes the socket,
    # the writer sends the close frame and then stops the receiver.
    closer = _Closer(ws)
    expiry = asyncio.get_running_loop().call_later(
        session_secs, conn.close, closecodes.SIGNED_OUT, "session expired"
    )
    try:
        interval = attendance.joined(svc, seat)
        await _sync(svc, conn, seat, _after(ws), admitted.head)
        conn.attach(ws.send_text, closer)
        try:
            await _receiver(ws, svc, conn, seat)
        except asyncio.CancelledError:
            if not closer.stopped or closer.receiver is None or closer.receiver.uncancel() > 0:
                raise  # not (only) our own stop: the server is cancelling this socket
        finally:
            closer.receiver = None
    finally:
        closer.receiver = None
        expiry.cancel()
        await conn.detach()
        await svc.hub.leave(conn)
        await attendance.disconnected(svc, seat, interval)
        if conn.close_code is None:
            with contextlib.suppress(Exception):
                await ws.close()


class _Closer:
    """Sends the close frame, then stops the socket's receiver (its handler's task). A slotted
    object rather than a closure: a closure and its cells cost ~300 B per idle socket."""

    __slots__ = ("receiver", "stopped", "ws")

    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self.receiver: asyncio.Task[object] | None = asyncio.current_task()
        self.stopped = False  # True once it has cancelled the receiver

    async def __call__(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await self.ws.close(code=code, reason=reason[:120])
        if self.receiver is not None:
            self.stopped = True
            self.receiver.cancel()


async def _sync(svc: Services, conn: Connection, seat: Seat, after: int | None, head: int) -> None:
    room_id = seat.room_id
    # head was read before the socket joined the hub; the backlog is read after, so anything
    # newer than head arrives either from the backlog or live (the hub drops the copy).
    start = after if after is not None else max(0, head - svc.settings.history_page_size)
    conn.last_seq = start
    conn.send_direct(
        frames.out(
            "welcome",
            v=frames.PROTOCOL_VERSION,
            room=room_id,
            you=conn.card,
            resumed_from=after,
            limits={"message_max_chars": svc.settings.message_max_chars},
        )
    )
    try:
        caught = await handshake.catch_up(svc, seat, start)
    except handshake.ServerBusy:
        conn.close(closecodes.TRY_AGAIN, BUSY_REASON)
        return
    conn.finish_sync(
        caught.backlog, lambda last: frames.out("caught_up", room=room_id, last_seq=last)
    )
    for frame in caught.greeting:
        conn.send_direct(frame)  # lock, slow mode and the viewer's own mute


async def _receiver(ws: WebSocket, svc: Services, conn: Connection, seat: Seat) -> None:
    limit = svc.settings.frame_max_bytes
    while True:
        try:
            msg = await ws.receive()
        except (WebSocketDisconnect, RuntimeError):
            return
        if msg["type"] == "websocket.disconnect":
            return
        text = msg.get("text")
        if text is None:
            conn.send_direct(frames.error("binary_unsupported", "Send JSON text frames."))
            continue
        try:
            command = frames.parse(text, limit)
        except frames.BadFrame as bad:
            conn.send_direct(frames.error(bad.code, bad.message, bad.client_id))
            continue
        if isinstance(command, frames.Ping):
            conn.send_direct(frames.out("pong", nonce=command.nonce))
            continue
        await _handle_send(svc, conn, seat, command)


async def _handle_send(svc: Services, conn: Connection, seat: Seat, cmd: frames.Send) -> None:
    client_id = cmd.client_id if isinstance(cmd.client_id, str) else None
    try:
        if not await svc.limits.message_allowed(conn.user_id, conn.room_id):
            window = svc.limits.message_window_seconds
            conn.send_direct(
                frames.error(
                    "rate_limited",
                    f"You are sending very fast. Please wait a few seconds "
                    f"(limit: {svc.settings.messages_per_window} messages per {window} s).",
                    client_id,
                    retry_after=window,
                )
            )
            return
        sent = await messages.send_message(svc, seat, cmd.client_id, cmd.body)
    except NotFound:
        conn.close(closecodes.FORBIDDEN, "no longer a member of this group")
        return
    except VillageError as exc:
        extra = getattr(exc, "extra", {})  # e.g. until (muted), retry_after (slow mode)
        conn.send_direct(frames.error(exc.code, exc.message, client_id, **extra))
        return
    except (DBAPIError, OSError, ConnectionError):
        log.exception("message from user %s in room %s not stored", conn.user_id, conn.room_id)
        conn.send_direct(
            frames.error(
                "unavailable",
                "Your message was not sent: the server cannot reach its database. "
                "It will be retried.",
                client_id,
                retryable=True,
            )
        )
        return
    conn.send_direct(
        frames.out(
            "ack",
            client_id=sent.message.client_id,
            seq=sent.message.seq,
            id=sent.message.id,
            duplicate=sent.duplicate,
        )
    )
    if sent.care is not None:
        conn.send_direct(messages.encode(sent.care))


routes = [WebSocketRoute("/ws/rooms/{room_id:int}", room_socket)]
