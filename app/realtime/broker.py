"""The broker seam: four verbs, bytes in and bytes out, chosen by URL.

It knows nothing of rooms or users. A subscription whose listener dies raises BrokerLost
from its iterator, so a subscriber is woken with an error and never left hanging.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Protocol

SUBSCRIBER_QUEUE_FRAMES = 10_000  # a subscriber this far behind resyncs from the database


class BrokerLost(Exception):
    """The subscription may have missed publications: resynchronise from the database."""


class QueueSubscription:
    """A bounded queue of publications for one subscriber. Overflow or an outage marks it
    lost, and its iterator then raises BrokerLost instead of leaving the subscriber hanging."""

    def __init__(self, size: int = SUBSCRIBER_QUEUE_FRAMES) -> None:
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue(size)
        self.lost = False

    def offer(self, data: bytes) -> None:
        if self.lost:
            return
        try:
            self.queue.put_nowait(data)
        except asyncio.QueueFull:
            self.lose()

    def lose(self) -> None:
        if self.lost:
            return
        self.lost = True
        # Make room for the sentinel so the iterator wakes even when the queue is full.
        while True:
            try:
                self.queue.put_nowait(None)
                return
            except asyncio.QueueFull:
                self.queue.get_nowait()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            data = await self.queue.get()
            if data is None:
                raise BrokerLost("subscription lost: overflowed, or the broker went away")
            yield data


class Subscription(Protocol):
    def __aiter__(self) -> AsyncIterator[bytes]: ...


class Broker(Protocol):
    async def start(self) -> None:
        """Connect and start the listener."""

    async def publish(self, channel: str, data: bytes) -> None:
        """Send data to every subscriber of channel, on every worker."""

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[Subscription]:
        """async with broker.subscribe(ch) as sub: async for data in sub: ..."""

    async def aclose(self) -> None:
        """Stop the listener and wake every subscriber."""

    @property
    def healthy(self) -> bool:
        """False while the listener is down (reported by /readyz)."""


def broker_from_url(url: str, prefix: str = "village") -> Broker:
    if url.startswith("memory://"):
        from app.realtime.memory_broker import MemoryBroker

        return MemoryBroker()
    if url.startswith(("redis://", "rediss://")):
        from app.realtime.redis_broker import RedisBroker

        return RedisBroker(url, prefix=prefix)
    raise ValueError(f"unsupported broker URL {url!r}: use memory:// or redis://host:port/db")
