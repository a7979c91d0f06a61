"""Redis broker: every worker's hub hears every room's publications.

One pub/sub connection per worker, subscribed channel by channel as rooms open and close.
Its listener is supervised: when Redis goes away every open subscription raises BrokerLost
(the hub then resubscribes and reads what it missed from the database), `healthy` is False
for /readyz, and the listener reconnects with backoff.

Publishing goes through one task that pipelines whatever is queued into a single round
trip: awaiting Redis once per message cut the ceiling by ~40% and exhausted the connection
pool under a thousand concurrent senders (docs/performance.md). A publication lost in an
outage costs nothing but latency: the message is already committed, and the hub fills gaps
from the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from app.realtime.broker import QueueSubscription

log = logging.getLogger("village.broker")

PUBLISH_QUEUE_FRAMES = 20_000  # senders wait (backpressure) rather than grow memory unbounded
PUBLISH_BATCH_MAX = 512  # commands per pipeline round trip
PUBLISH_ATTEMPTS = 3  # then the batch is dropped: the database still has every message
SUBSCRIBE_CONFIRM_SECS = 5.0  # no SUBSCRIBE reply by then: treat the connection as lost
WAIT_FOR_UP_SECS = 2.0  # a subscribe during an outage waits this long before giving up
# Retry at once, then briefly: every socket waits for the listener before it can resume, so
# its retry delay adds straight to how long clients take to converge after an outage (the
# goal is 5 s). A refused connection costs microseconds, so polling twice a second is cheap.
RECONNECT_BACKOFF_SECS = (0.0, 0.05, 0.1, 0.25, 0.5)
COMMAND_TIMEOUT_SECS = 2.0  # a Redis command or connect slower than this counts as failed
HEALTH_CHECK_SECS = 5  # redis-py PINGs an idle pub/sub connection this often
ALIVE_CHANNEL = "_alive"  # always subscribed; carries the listener's own liveness checks
SILENT_CHECKS = 3  # health checks without hearing anything before the connection is dropped


class RedisBroker:
    def __init__(
        self, url: str, prefix: str = "village", health_check_secs: float = HEALTH_CHECK_SECS
    ) -> None:
        self.url = url
        self.prefix = prefix
        self.health_check_secs = health_check_secs
        self._client: aioredis.Redis | None = None
        self._sub_client: aioredis.Redis | None = None
        self._pubsub: aioredis.client.PubSub | None = None
        self._subs: dict[str, set[QueueSubscription]] = {}  # full channel name -> subscribers
        self._confirmed: dict[str, asyncio.Event] = {}
        self._up = asyncio.Event()
        self._closed = False
        self._outbox: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue(PUBLISH_QUEUE_FRAMES)
        self._listener: asyncio.Task[None] | None = None
        self._publisher: asyncio.Task[None] | None = None

    @property
    def healthy(self) -> bool:
        return self._up.is_set() and not self._closed

    def _full(self, channel: str) -> str:
        return f"{self.prefix}:{channel}"

    async def start(self) -> None:
        self._closed = False
        # A bounded pool: the publisher needs one connection, the rest is headroom. Every
        # command has a deadline: a Redis that restarts mid-command must not hang the publisher.
        self._client = aioredis.Redis.from_url(
            self.url,
            max_connections=8,
            socket_timeout=COMMAND_TIMEOUT_SECS,
            socket_connect_timeout=COMMAND_TIMEOUT_SECS,
        )
        # The listener's connection waits for messages indefinitely: no socket timeout there.
        self._sub_client = aioredis.Redis.from_url(
            self.url,
            socket_connect_timeout=COMMAND_TIMEOUT_SECS,
            health_check_interval=self.health_check_secs,
        )
        self._listener = asyncio.create_task(self._listen_forever(), name="redis-listener")
        self._publisher = asyncio.create_task(self._publish_forever(), name="redis-publisher")
        # Start-up waits briefly for Redis; if it is down the worker still serves from the
        # database and /readyz says so until the listener connects.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._up.wait(), WAIT_FOR_UP_SECS)

    async def publish(self, channel: str, data: bytes) -> None:
        await self._outbox.put((self._full(channel), data))

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[QueueSubscription]:
        full = self._full(channel)
        sub = QueueSubscription()
        subs = self._subs.setdefault(full, set())
        first = not subs
        subs.add(sub)
        try:
            await self._attach(full, sub, first)
            yield sub
        finally:
            await self._detach(full, sub)

    async def _attach(self, full: str, sub: QueueSubscription, first: bool) -> None:
        """Return once Redis confirms the channel, so nothing published afterwards is missed."""
        try:
            await asyncio.wait_for(self._up.wait(), WAIT_FOR_UP_SECS)
        except TimeoutError:
            sub.lose()
            return
        pubsub = self._pubsub
        if pubsub is None:
            sub.lose()
            return
        confirmed = self._confirmed.get(full)
        if first or confirmed is None:
            confirmed = self._confirmed[full] = asyncio.Event()
            try:
                await pubsub.subscribe(full)
            except (RedisError, OSError):
                sub.lose()
                return
        try:
            await asyncio.wait_for(confirmed.wait(), SUBSCRIBE_CONFIRM_SECS)
        except TimeoutError:
            sub.lose()

    async def _detach(self, full: str, sub: QueueSubscription) -> None:
        subs = self._subs.get(full)
        if subs is None:
            return
        subs.discard(sub)
        if subs:
            return
        del self._subs[full]
        self._confirmed.pop(full, None)
        pubsub = self._pubsub
        if pubsub is not None and self._up.is_set():
            with contextlib.suppress(RedisError, OSError):
                await pubsub.unsubscribe(full)
                if self._subs.get(full) and self._pubsub is pubsub:
                    # A new subscriber arrived while the UNSUBSCRIBE was on its way and may
                    # have had its SUBSCRIBE confirmed before it: subscribe again, after it.
                    await pubsub.subscribe(full)

    async def aclose(self) -> None:
        self._closed = True
        self._up.clear()
        # Hand the queued publications to Redis before leaving (best effort, bounded).
        if self._publisher is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._outbox.join(), 2.0)
        for task in (self._listener, self._publisher):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._lose_all()
        for client in (self._client, self._sub_client):
            if client is not None:
                await client.aclose()

    def _lose_all(self) -> None:
        for subs in self._subs.values():
            for sub in subs:
                sub.lose()
        self._confirmed.clear()

    # --- the supervised listener -------------------------------------------------------

    async def _listen_forever(self) -> None:
        attempt = 0
        while not self._closed:
            try:
                await self._listen_once()
                attempt = 0
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                if self._up.is_set():
                    log.warning("Redis listener lost (%s); reconnecting", type(exc).__name__)
            except Exception:
                log.exception("Redis listener failed; reconnecting")
            self._up.clear()
            self._lose_all()
            await self._close_pubsub()
            delay = RECONNECT_BACKOFF_SECS[min(attempt, len(RECONNECT_BACKOFF_SECS) - 1)]
            attempt += 1
            await asyncio.sleep(delay)

    async def _listen_once(self) -> None:
        assert self._sub_client is not None
        pubsub = self._sub_client.pubsub()
        self._pubsub = pubsub
        await pubsub.subscribe(self._full(ALIVE_CHANNEL))
        # Wait for the first confirmation before declaring the broker up.
        while True:
            msg = await pubsub.get_message(timeout=SUBSCRIBE_CONFIRM_SECS)
            if msg is None:
                raise ConnectionError("no reply to SUBSCRIBE")
            if msg["type"] == "subscribe":
                break
        # Subscriptions opened while we were down were already told they were lost.
        self._up.set()
        log.info("Redis listener connected")
        loop = asyncio.get_running_loop()
        last_heard = loop.time()
        while True:
            msg = await pubsub.get_message(timeout=self.health_check_secs)
            if msg is None:
                # Quiet: publish to our own alive channel and expect to hear it back. A silent
                # network partition is noticed within a few checks, not at the next message.
                if loop.time() - last_heard > self.health_check_secs * SILENT_CHECKS:
                    raise ConnectionError("Redis stopped answering")
                with contextlib.suppress(asyncio.QueueFull):
                    self._outbox.put_nowait((self._full(ALIVE_CHANNEL), b""))
                continue
            last_heard = loop.time()
            kind = msg["type"]
            channel = msg["channel"]
            name = channel.decode() if isinstance(channel, bytes) else str(channel)
            if kind == "message":
                for sub in tuple(self._subs.get(name, ())):
                    sub.offer(msg["data"])
            elif kind == "subscribe":
                event = self._confirmed.get(name)
                if event is not None:
                    event.set()

    async def _close_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    # --- the batching publisher --------------------------------------------------------

    async def _publish_forever(self) -> None:
        assert self._client is not None
        while True:
            batch = [await self._outbox.get()]
            while len(batch) < PUBLISH_BATCH_MAX:
                try:
                    batch.append(self._outbox.get_nowait())
                except asyncio.QueueEmpty:
                    break
            try:
                await self._send(batch)
            finally:
                for _ in batch:
                    self._outbox.task_done()

    async def _send(self, batch: list[tuple[str, bytes]]) -> None:
        assert self._client is not None
        for attempt in range(PUBLISH_ATTEMPTS):
            try:
                pipe = self._client.pipeline(transaction=False)
                for channel, data in batch:
                    pipe.publish(channel, data)
                await pipe.execute()
                return
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                log.warning(
                    "publishing %d frames failed (%s, attempt %d)",
                    len(batch),
                    type(exc).__name__,
                    attempt + 1,
                )
                await asyncio.sleep(RECONNECT_BACKOFF_SECS[attempt])
        # Dropped: every worker's listener saw the same outage and resyncs from the database.
        log.error("dropped %d publications after %d attempts", len(batch), PUBLISH_ATTEMPTS)
