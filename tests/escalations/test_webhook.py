"""The optional webhook: JSON with a link and the severity, signed with HMAC-SHA256."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json

from app.clock import FakeClock
from app.notifications.senders import SIGNATURE_HEADER, TIMESTAMP_HEADER
from tests.conftest import World
from tests.escalations.conftest import SmtpServer, esc_settings, pick
from tests.escalations.helpers import Dispatcher, escalations, notifications, send, services


class Receiver:
    """A tiny real HTTP server on 127.0.0.1 that records requests and answers `status`."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.requests: list[tuple[dict[str, str], bytes]] = []

    async def __aenter__(self) -> Receiver:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/hook"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()
        await self.server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode().split("\r\n")[1:]
        headers = {k.lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines if ln)}
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        self.requests.append((headers, body))
        writer.write(f"HTTP/1.1 {self.status} X\r\nContent-Length: 0\r\n\r\n".encode())
        await writer.drain()
        writer.close()


async def test_webhook_is_signed_json_with_link_and_severity_only(
    world: World, smtp: SmtpServer, clock: FakeClock
) -> None:
    """The receiver can verify the HMAC-SHA256 signature; the body carries no message text."""
    text = pick("imminent")
    async with Receiver() as hook:
        settings = esc_settings(
            world.settings, smtp.port, webhook_url=hook.url, webhook_secret="s3cret"
        )
        svc = services(settings, clock)
        try:
            await send(svc, world.amara.id, world.room_id, text, "c1")
            await Dispatcher(svc).tick()
            [esc] = await escalations(svc)
        finally:
            await svc.db.aclose()
    [(headers, body)] = hook.requests
    expected = hmac.new(
        b"s3cret", headers[TIMESTAMP_HEADER.lower()].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    assert headers[SIGNATURE_HEADER.lower()] == f"sha256={expected}"
    payload = json.loads(body)
    assert payload["event"] == "escalation.opened"
    assert payload["severity"] == "imminent"
    assert payload["url"] == f"http://testserver/escalations/{esc.id}"
    assert text not in body.decode() and "Amara" not in body.decode()


async def test_webhook_error_status_is_retried(world: World, clock: FakeClock) -> None:
    """A 5xx answer counts as a failure: the row stays pending for a retry with backoff."""
    async with Receiver(status=503) as hook:
        settings = esc_settings(world.settings, 1, smtp_host="", webhook_url=hook.url)
        svc = services(settings, clock)
        try:
            await send(svc, world.amara.id, world.room_id, pick("high"), "c1")
            await Dispatcher(svc).tick()
            [n] = await notifications(svc)
        finally:
            await svc.db.aclose()
    assert n.channel == "webhook" and n.status == "pending" and n.attempts == 1
    assert "HTTP 503" in n.last_error
