"""create_app(settings): nothing is connected at import time; the lifespan builds it all."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import attendance, group_sessions, messages
from app.clock import Clock, SystemClock
from app.notifications.dispatcher import Dispatcher
from app.ratelimits import RateLimits
from app.realtime.broker import broker_from_url
from app.realtime.hub import Hub
from app.realtime.presence import MemoryPresence, PresenceStore
from app.services import Services
from app.settings import Settings
from app.storage.database import Database
from app.web import (
    admin,
    api,
    audit_pages,
    clinician,
    moderation_api,
    pages,
    risk_admin,
    staff_ws,
    ws,
)
from app.web import group_sessions as group_session_pages
from app.web.errors import handlers

log = logging.getLogger("village")
ROOT = Path(__file__).resolve().parents[1]

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self' ws: wss:; frame-ancestors 'none'; form-action 'self'"
    ),
}


class SecurityHeaders:
    """SECURITY_HEADERS on every HTTP response that does not set them itself.

    Pure ASGI, and `__call__` is a plain function: for a WebSocket it hands back the inner
    app's coroutine, so a long-lived socket holds no frame of this layer (BaseHTTPMiddleware
    kept ~770 B per idle socket: docs/performance.md)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] != "http":
            return self.app(scope, receive, send)
        return self._http(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for key, value in SECURITY_HEADERS.items():
                    headers.setdefault(key, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def presence_for(settings: Settings) -> PresenceStore:
    if settings.broker_url.startswith(("redis://", "rediss://")):
        from app.realtime.redis_presence import RedisPresence

        return RedisPresence(
            settings.broker_url, settings.redis_prefix, settings.presence_heartbeat_seconds
        )
    return MemoryPresence()


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> Starlette:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        db = Database(settings.database_url)
        broker = broker_from_url(settings.broker_url, settings.redis_prefix)
        await broker.start()
        svc_box: list[Services] = []

        async def backlog(room_id: int, after: int):  # type: ignore[no-untyped-def]
            return await messages.backlog(svc_box[0], room_id, after)

        async def head(room_id: int) -> int:
            return await messages.room_head(svc_box[0], room_id)

        presence = presence_for(settings)
        hub = Hub(broker, presence, backlog, head)
        if hasattr(presence, "on_expired"):
            # A dead worker's people vanish from Redis; tell every worker's clients.
            presence.on_expired = hub.publish_presence
        svc = Services(
            settings=settings,
            db=db,
            clock=clock or SystemClock(),
            broker=broker,
            hub=hub,
            limits=RateLimits(settings),
        )
        svc_box.append(svc)
        await hub.start()
        upkeep = asyncio.create_task(group_sessions.upkeep_loop(svc), name="session-upkeep")
        app.state.services = svc
        dispatcher = Dispatcher(svc)
        svc.outbox_written = dispatcher.wake.set
        await dispatcher.start()
        app.state.dispatcher = dispatcher
        if not settings.smtp_host:
            log.warning("VILLAGE_SMTP_HOST is not set: escalations reach clinicians live only")
        # Compile the risk rules now (seconds of work), not on a mother's first message.
        from moderation.engine import default_engine

        await asyncio.to_thread(default_engine)
        if settings.gc_freeze:
            # Start-up objects never become garbage: keep them out of every GC pass
            # (see docs/performance.md).
            gc.collect()
            gc.freeze()
        gc.set_threshold(*settings.gc_thresholds)
        log.info(
            "Village ready: database=%s broker=%s",
            _redact(settings.database_url),
            settings.broker_url.split("@")[-1],
        )
        try:
            yield
        finally:
            upkeep.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await upkeep
            await dispatcher.aclose()
            await hub.aclose()
            await attendance.drain(svc)
            await svc.rosters.aclose()
            await hub.presence.aclose()
            await broker.aclose()
            await db.aclose()

    routes = [
        *pages.routes,
        *admin.routes,
        *api.routes,
        *moderation_api.routes,
        *audit_pages.routes,
        *group_session_pages.routes,
        *ws.routes,
        *clinician.routes,
        *staff_ws.routes,
        *risk_admin.routes,
        Mount("/static", StaticFiles(directory=str(ROOT / "static")), name="static"),
    ]
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers=handlers,  # type: ignore[arg-type]
        middleware=[Middleware(SecurityHeaders)],
    )


def _redact(url: str) -> str:
    if "@" in url:
        scheme, _, rest = url.partition("://")
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
