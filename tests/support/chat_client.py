"""A real WebSocket chat client for multi-worker tests: records every frame it receives,
resumes from its last seen id after a disconnect and resends what was never acknowledged."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import uuid
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from app.realtime.closecodes import TRY_AGAIN
from tests.conftest import ORIGIN, Person


class ChatClient:
    def __init__(self, person: Person, room_id: int, tag: str = "") -> None:
        self.person = person
        self.room_id = room_id
        self.tag = tag or person.name
        self.transcript: list[int] = []  # message seqs, in arrival order, duplicates included
        self.bodies: dict[int, str] = {}
        self.last_seq = 0
        self.acked: dict[str, int] = {}  # client_id -> seq
        self.pending: dict[str, str] = {}  # client_id -> body, sent but not acknowledged
        self.errors: list[dict[str, Any]] = []
        self.close_codes: list[int | None] = []
        self.ws: ClientConnection | None = None
        self.caught_up = asyncio.Event()
        self.closed = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self._sent = 0
        self.busy_closes = 0  # times the server said it was too busy (TRY_AGAIN)

    async def connect(self, base: str, within: float = 10.0) -> None:
        """Open (or reopen) the room socket resuming after last_seq; resend unacknowledged.
        A server too busy to answer closes with TRY_AGAIN (1013): retry after a short,
        growing, jittered pause, as the browser does, until `within` has passed."""
        loop = asyncio.get_running_loop()
        end = loop.time() + within
        attempt = 0
        while not await self._open(base, max(0.5, end - loop.time())):
            self.busy_closes += 1
            attempt += 1
            pause = min(2.0, 0.1 * 2**attempt) * random.uniform(0.5, 1.0)
            if loop.time() + pause > end:
                raise TimeoutError(f"{self.tag}: server busy for {within} s")
            await asyncio.sleep(pause)
        for client_id, body in list(self.pending.items()):
            await self._send_frame(client_id, body)

    async def _open(self, base: str, within: float) -> bool:
        """True once caught up; False if the server said it is busy."""
        self.caught_up.clear()
        self.closed.clear()
        url = f"{base}/ws/rooms/{self.room_id}?after={self.last_seq}"
        self.ws = await asyncio.wait_for(
            connect(
                url,
                additional_headers=self.person.ws_headers(ORIGIN),
                compression=None,
                open_timeout=within,
                max_queue=None,
            ),
            within,
        )
        self._reader = asyncio.create_task(self._read(self.ws))
        caught_up = asyncio.ensure_future(self.caught_up.wait())
        closed = asyncio.ensure_future(self.closed.wait())
        try:
            await asyncio.wait({caught_up, closed}, timeout=within, return_when="FIRST_COMPLETED")
        finally:
            caught_up.cancel()
            closed.cancel()
        if self.caught_up.is_set():
            return True
        if self.closed.is_set() and self.close_codes[-1] == TRY_AGAIN:
            await self._drop()
            return False
        raise TimeoutError(f"{self.tag}: not caught up within {within} s")

    async def reconnect(self, bases: list[str], deadline_secs: float = 10.0) -> str:
        """Try each worker in turn until one accepts; return the one that did."""
        loop = asyncio.get_running_loop()
        end = loop.time() + deadline_secs
        while True:
            for base in bases:
                try:
                    await self.connect(base, within=max(0.5, end - loop.time()))
                    return base
                except (OSError, TimeoutError, WebSocketException):
                    await self._drop()
            if loop.time() > end:
                raise TimeoutError(f"{self.tag} could not reconnect")
            await asyncio.sleep(0.02)

    async def resume(self, bases: list[str]) -> None:
        """Reconnect as a browser tab would: keep trying (a busy server may be slow to answer)."""
        while True:
            try:
                await self.reconnect(bases)
                return
            except TimeoutError:
                continue

    async def send(self, body: str) -> str:
        self._sent += 1
        client_id = f"{self.tag}-{self._sent}-{uuid.uuid4().hex[:6]}"
        self.pending[client_id] = body
        with contextlib.suppress(WebSocketException, OSError):
            await self._send_frame(client_id, body)
        return client_id

    async def _send_frame(self, client_id: str, body: str) -> None:
        ws = self.ws
        if ws is None:
            return  # between connections: stays pending and is resent on reconnect
        await ws.send(json.dumps({"type": "send", "client_id": client_id, "body": body}))

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                frame = json.loads(raw)
                kind = frame["type"]
                if kind == "message":
                    self.transcript.append(frame["seq"])
                    self.bodies[frame["seq"]] = frame["body"]
                    self.last_seq = max(self.last_seq, frame["seq"])
                elif kind == "ack":
                    self.acked[frame["client_id"]] = frame["seq"]
                    self.pending.pop(frame["client_id"], None)
                elif kind == "caught_up":
                    self.caught_up.set()
                elif kind == "error":
                    self.errors.append(frame)
        except (WebSocketException, OSError):
            pass
        finally:
            self.close_codes.append(ws.close_code)
            self.closed.set()

    async def _drop(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._reader, 2)
        self.ws = None

    async def close(self) -> None:
        await self._drop()

    def check(self, head: int) -> tuple[int, int]:
        """(gaps, duplicates) of this client's transcript against the database's 1..head."""
        seen = set(self.transcript)
        duplicates = len(self.transcript) - len(seen)
        gaps = len(set(range(1, head + 1)) - seen)
        return gaps, duplicates


async def wait_caught_up(clients: list[ChatClient], head: int, within: float) -> float:
    """Seconds until every client has seen message head (raises after `within`)."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while any(c.last_seq < head for c in clients):
        if loop.time() - start > within:
            behind = {c.tag: c.last_seq for c in clients if c.last_seq < head}
            raise AssertionError(f"not caught up to {head} within {within} s: {behind}")
        await asyncio.sleep(0.02)
    return loop.time() - start


async def wait_acked(clients: list[ChatClient], within: float) -> None:
    """Until every client's sends are acknowledged (raises after `within`)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + within
    while any(c.pending for c in clients):
        if loop.time() > end:
            stuck = {c.tag: (len(c.pending), c.errors[-3:], c.close_codes) for c in clients}
            raise AssertionError({tag: v for tag, v in stuck.items() if v[0]})
        await asyncio.sleep(0.05)
