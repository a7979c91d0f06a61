"""In-process broker: one worker only (a second worker would never see these publications)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from app.realtime.broker import BrokerLost

SUBSCRIBER_QUEUE_FRAMES = 10_000  # a subscriber this far behind resyncs from the database


class _MemorySubscription:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue(SUBSCRIBER_QUEUE_FRAMES)
        self.lost = False

    def offer(self, data: bytes) -> None:
        try:
            self.queue.put_nowait(data)
        except asyncio.QueueFull:
            self.lost = True
            self._wake()

    def _wake(self) -> None:
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
                raise BrokerLost("subscription overflowed or broker closed")
            yield data


class MemoryBroker:
    def __init__(self) -> None:
        self._subs: dict[str, set[_MemorySubscription]] = defaultdict(set)
        self._closed = False

    @property
    def healthy(self) -> bool:
        return not self._closed

    async def start(self) -> None:
        self._closed = False

    async def publish(self, channel: str, data: bytes) -> None:
        for sub in tuple(self._subs.get(channel, ())):
            sub.offer(data)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[_MemorySubscription]:
        sub = _MemorySubscription()
        self._subs[channel].add(sub)
        try:
            yield sub
        finally:
            subs = self._subs.get(channel)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[channel]

    async def aclose(self) -> None:
        self._closed = True
        for subs in self._subs.values():
            for sub in subs:
                sub.lost = True
                sub._wake()
