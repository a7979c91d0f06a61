"""The per-worker hub: which sockets are in which room, and fan-out to them.

It never awaits one client inside a loop over clients: each connection has a bounded outbox
drained by its own writer task (started when there is something to write). A client that
falls behind is closed with RESUME and reconnects with its last seen id; the room never
waits for it.

Ordering: each room's reader delivers message frames in sequence order with no gaps. When a
publication is missing (out-of-order publishers, a broker hiccup) it reads the gap from the
database, which is the source of truth: a message is committed before it is published.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import types
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any

from app.realtime import closecodes
from app.realtime.broker import Broker, BrokerLost
from app.realtime.envelope import CONTROL_CHANNEL, Envelope, can_see, room_channel
from app.realtime.presence import Card, PresenceStore

log = logging.getLogger("village.hub")

Backlog = Callable[[int, int], Awaitable[list[Envelope]]]  # (room_id, after_seq)
RoomHead = Callable[[int], Awaitable[int]]  # room_id -> last committed seq
SendFrame = Callable[[str], Awaitable[None]]
CloseSocket = Callable[[int, str], Awaitable[None]]  # (close code, reason)
# At once, then briefly: after a Redis restart, sockets resume only once the control channel
# is back, so this delay adds straight to convergence (goal 5 s). While Redis is down each
# attempt also waits up to the broker's WAIT_FOR_UP_SECS for it, so retries stay few.
RESUBSCRIBE_BACKOFF_SECS = (0.0, 0.1, 0.25, 0.5)
PRESENCE_COALESCE_SECS = 0.05  # joins and leaves this close together share one presence frame
_conn_ids = itertools.count(1)


class Connection:
    """One socket in one room. A frame is written at once when nothing is pending and the
    socket takes it without waiting (the common case: a task per delivery cost more CPU than
    the write itself). Otherwise frames wait in a bounded outbox and a writer task drains
    it; that task exists only while there is something to write, so an idle socket costs no
    task and no queue (at thousands of idle sockets that is most of a connection's memory:
    docs/performance.md). Until `attach`, frames just accumulate (the hub's tests read them
    with `take`)."""

    __slots__ = (
        "_buffer",
        "_close",
        "_outbox",
        "_replay",
        "_replaying",
        "_send",
        "_syncing",
        "_writer",
        "card",
        "close_code",
        "close_reason",
        "group_id",
        "key",
        "last_seq",
        "queue_size",
        "room_id",
        "user_id",
    )

    def __init__(
        self, user_id: int, room_id: int, group_id: int, card: Card, queue_size: int
    ) -> None:
        self.user_id = user_id
        self.room_id = room_id
        self.group_id = group_id
        self.card = card
        self.queue_size = queue_size
        self.key = f"c{next(_conn_ids)}"
        self.last_seq = 0
        self.close_code: int | None = None
        self.close_reason = ""
        self._syncing = True
        self._buffer: list[Envelope] | None = None  # live envelopes that arrive during sync
        self._outbox: deque[str] | None = None  # None while empty: a deque costs ~600 bytes
        # Backlog frames at the head of the outbox. They were read from the database, so they
        # are bounded already; only frames queued behind them count against queue_size.
        self._replay = 0
        self._replaying = False
        self._send: SendFrame | None = None
        self._close: CloseSocket | None = None
        self._writer: asyncio.Task[None] | None = None

    @property
    def role(self) -> str:
        return str(self.card["role"])

    def visible(self, env: Envelope) -> bool:
        return can_see(env.audience, self.user_id, self.role)

    def deliver(self, env: Envelope) -> None:
        if self.close_code is not None:
            return
        if self._syncing:
            if self._buffer is None:
                self._buffer = []
            if len(self._buffer) >= self.queue_size:
                self.close(closecodes.RESUME, "too far behind")
            else:
                self._buffer.append(env)
            return
        if env.audience != "*" and not self.visible(env):
            return
        if env.seq:
            if env.seq <= self.last_seq:
                return  # already sent from the backlog or by an earlier publication
            self.last_seq = env.seq
        self._put(env.frame)

    def send_direct(self, frame: str) -> None:
        """A frame for this socket only (acks, errors)."""
        if self.close_code is None:
            self._put(frame)

    def finish_sync(
        self, backlog: list[Envelope], caught_up: Callable[[int], str] | None = None
    ) -> None:
        """Send what was missed, then what arrived meanwhile, each message exactly once."""
        self._syncing = False
        self._replaying = True
        try:
            for env in backlog:
                self.deliver(env)
        finally:
            self._replaying = False
        if caught_up is not None:
            self.send_direct(caught_up(self.last_seq))
        buffered, self._buffer = self._buffer or [], None
        for env in buffered:
            self.deliver(env)

    def close(self, code: int, reason: str) -> None:
        if self.close_code is not None:
            return
        self.close_code, self.close_reason = code, reason
        # Drop what is queued: the client will resume from its last seen id anyway.
        self._outbox = None
        self._replay = 0
        self._wake()

    def attach(self, send: SendFrame, close: CloseSocket) -> None:
        """Write to the socket from now on: what is queued, what comes, then the close."""
        self._send, self._close = send, close
        self._wake()

    async def detach(self) -> None:
        """Stop writing (the socket is gone or going)."""
        self._send = self._close = None
        writer, self._writer = self._writer, None
        if writer is not None and writer is not asyncio.current_task():
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer

    def take(self) -> list[str]:
        """Remove and return the queued frames (for a connection that is not attached)."""
        frames, self._outbox = list(self._outbox or ()), None
        self._replay = 0
        return frames

    def _put(self, frame: str) -> None:
        if self._outbox is None:
            if self._writer is None and self._send is not None:
                self._send_now(frame)
                return
            self._outbox = deque()
        if self._replaying:
            self._replay += 1
        elif len(self._outbox) - self._replay >= self.queue_size:
            self.close(closecodes.RESUME, "too slow: reconnect and resume")
            return
        self._outbox.append(frame)
        self._wake()

    def _send_now(self, frame: str) -> None:
        """Run the send coroutine by hand up to its first suspension, as Python 3.12's eager
        tasks do. uvicorn's send suspends only while the transport's buffer is over its high
        water mark, so it almost always completes here; if it does suspend, a writer task
        finishes it, and later frames queue behind it in the outbox."""
        assert self._send is not None
        coro = self._send(frame)
        try:
            waiting = coro.send(None)
        except StopIteration:
            return
        except Exception:
            self._send = None  # the socket is gone; its receiver sees the disconnect
            return
        self._writer = asyncio.create_task(self._write(_resume(coro, waiting)))

    def _wake(self) -> None:
        if self._writer is None and self._send is not None:
            self._writer = asyncio.create_task(self._write())

    async def _write(self, pending: Awaitable[None] | None = None) -> None:
        try:
            if pending is not None:
                await pending
            while self._send is not None:
                outbox = self._outbox
                if outbox:
                    if self._replay:
                        self._replay -= 1
                    await self._send(outbox.popleft())
                    continue
                self._outbox = None
                if self.close_code is not None and self._close is not None:
                    close, self._send = self._close, None  # the close frame is the last one
                    await close(self.close_code, self.close_reason)
                return
        except Exception:
            self._send = None  # the socket is gone; its receiver sees the disconnect
            self._outbox = None
            self._replay = 0
        finally:
            if self._writer is asyncio.current_task():
                self._writer = None


@types.coroutine
def _resume(coro: Coroutine[Any, Any, None], waiting: Any) -> Generator[Any, Any, None]:
    """Finish a coroutine that was stepped by hand and suspended yielding `waiting` (the
    future it awaits): hand that future to the running task, then delegate as `await`
    would. Cancelling the task cancels the coroutine."""
    try:
        while True:
            try:
                sent = yield waiting
            except GeneratorExit:
                raise
            except BaseException as exc:
                waiting = coro.throw(exc)
            else:
                waiting = coro.send(sent)
    except StopIteration:
        return
    finally:
        coro.close()


class _RoomChannel:
    def __init__(self, hub: Hub, room_id: int) -> None:
        self.hub = hub
        self.room_id = room_id
        self.conns: set[Connection] = set()
        self.last_seq = 0
        self.ready = asyncio.Event()
        self.task = asyncio.create_task(self._run(), name=f"room-{room_id}")

    async def _run(self) -> None:
        attempt = 0
        while True:
            try:
                async with self.hub.broker.subscribe(room_channel(self.room_id)) as sub:
                    # Anything committed before we listened comes from the database.
                    head = await self.hub.room_head(self.room_id)
                    if self.ready.is_set():
                        await self._catch_up()
                    else:
                        self.last_seq = head
                        self.ready.set()
                    attempt = 0
                    async for data in sub:
                        await self._dispatch(Envelope.decode(data))
            except asyncio.CancelledError:
                raise
            except BrokerLost:
                log.warning("room %s subscription lost; resynchronising", self.room_id)
            except Exception:
                log.exception("room %s reader failed; resynchronising", self.room_id)
            delay = RESUBSCRIBE_BACKOFF_SECS[min(attempt, len(RESUBSCRIBE_BACKOFF_SECS) - 1)]
            attempt += 1
            await asyncio.sleep(delay)

    async def _dispatch(self, env: Envelope) -> None:
        # Connections drop what they already have, so the reader only has to fill gaps.
        if env.seq > self.last_seq + 1:
            await self._catch_up()
        self.last_seq = max(self.last_seq, env.seq)
        for conn in tuple(self.conns):
            conn.deliver(env)

    async def _catch_up(self) -> None:
        for env in await self.hub.backlog(self.room_id, self.last_seq):
            for conn in tuple(self.conns):
                conn.deliver(env)
            self.last_seq = max(self.last_seq, env.seq)


class Hub:
    def __init__(
        self,
        broker: Broker,
        presence: PresenceStore,
        backlog: Backlog,
        room_head: RoomHead,
    ) -> None:
        self.broker = broker
        self.presence = presence
        self.backlog = backlog
        self.room_head = room_head
        self._rooms: dict[int, _RoomChannel] = {}
        self._by_user: dict[int, set[Connection]] = defaultdict(set)
        self._control_task: asyncio.Task[None] | None = None
        self._presence_due: set[int] = set()
        self._presence_tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._control_task = asyncio.create_task(self._control(), name="hub-control")

    async def aclose(self) -> None:
        for conns in self._by_user.values():
            for conn in conns:
                conn.close(closecodes.GOING_AWAY, "server restarting")
        tasks = [ch.task for ch in self._rooms.values()]
        tasks.extend(self._presence_tasks)
        if self._control_task:
            tasks.append(self._control_task)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._rooms.clear()

    @property
    def connection_count(self) -> int:
        return sum(len(c) for c in self._by_user.values())

    async def join(self, conn: Connection) -> None:
        """Register conn in its room; it buffers live frames until finish_sync."""
        channel = self._rooms.get(conn.room_id)
        if channel is None:
            channel = self._rooms[conn.room_id] = _RoomChannel(self, conn.room_id)
        await channel.ready.wait()
        channel.conns.add(conn)
        self._by_user[conn.user_id].add(conn)
        await self.presence.add(conn.room_id, conn.key, conn.card)
        await self.publish_presence(conn.room_id)

    async def leave(self, conn: Connection) -> None:
        channel = self._rooms.get(conn.room_id)
        if channel is not None:
            channel.conns.discard(conn)
            if not channel.conns:
                channel.task.cancel()
                del self._rooms[conn.room_id]
        user_conns = self._by_user.get(conn.user_id)
        if user_conns is not None:
            user_conns.discard(conn)
            if not user_conns:
                del self._by_user[conn.user_id]
        await self.presence.remove(conn.room_id, conn.key)
        await self.publish_presence(conn.room_id)

    async def publish(self, room_id: int, envelopes: list[Envelope]) -> None:
        channel = room_channel(room_id)
        for env in envelopes:
            await self.broker.publish(channel, env.encode())

    async def publish_presence(self, room_id: int) -> None:
        """Schedule the room's presence frame. Joins and leaves within PRESENCE_COALESCE_SECS
        share one frame: a reconnect storm of n sockets would otherwise fan out n² frames."""
        if room_id in self._presence_due:
            return
        self._presence_due.add(room_id)
        task = asyncio.create_task(self._publish_presence_soon(room_id))
        self._presence_tasks.add(task)
        task.add_done_callback(self._presence_tasks.discard)

    async def _publish_presence_soon(self, room_id: int) -> None:
        await asyncio.sleep(PRESENCE_COALESCE_SECS)
        self._presence_due.discard(room_id)  # a change from now on schedules another frame
        members = await self.presence.members(room_id)
        frame = json.dumps({"type": "presence", "room": room_id, "members": members})
        with contextlib.suppress(Exception):  # presence is best-effort; messages are not
            await self.publish(room_id, [Envelope(0, "*", frame)])

    async def close_user(self, user_id: int, code: int, reason: str, group_id: int = 0) -> None:
        """Close a user's sockets on every worker (logout, deactivation, removal)."""
        payload = {"op": "close", "user_id": user_id, "code": code, "reason": reason}
        if group_id:
            payload["group_id"] = group_id
        self._close_local(payload)
        with contextlib.suppress(Exception):
            await self.broker.publish(CONTROL_CHANNEL, json.dumps(payload).encode())

    def _resume_all(self) -> None:
        for conns in tuple(self._by_user.values()):
            for conn in tuple(conns):
                conn.close(closecodes.RESUME, "reconnected to the broker: resume")

    def _close_local(self, payload: dict[str, object]) -> None:
        for conn in tuple(self._by_user.get(int(payload["user_id"]), ())):  # type: ignore[call-overload]
            if "group_id" in payload and conn.group_id != payload["group_id"]:
                continue
            conn.close(int(payload["code"]), str(payload["reason"]))  # type: ignore[call-overload]

    async def _control(self) -> None:
        attempt = 0
        lost = False
        while True:
            try:
                async with self.broker.subscribe(CONTROL_CHANNEL) as sub:
                    if lost and self.broker.healthy:
                        # Closes (removals, logouts) published meanwhile were missed: every
                        # socket resumes, which re-authorises it and catches it up.
                        self._resume_all()
                        lost = False
                    attempt = 0
                    async for data in sub:
                        self._close_local(json.loads(data))
            except asyncio.CancelledError:
                raise
            except Exception:
                lost = True
                log.warning("control subscription lost; resubscribing")
            await asyncio.sleep(
                RESUBSCRIBE_BACKOFF_SECS[min(attempt, len(RESUBSCRIBE_BACKOFF_SECS) - 1)]
            )
            attempt += 1
