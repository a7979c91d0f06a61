"""In-process broker: one worker only (a second worker would never see these publications)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from app.realtime.broker import QueueSubscription


class MemoryBroker:
    def __init__(self) -> None:
        self._subs: dict[str, set[QueueSubscription]] = defaultdict(set)
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
    async def subscribe(self, channel: str) -> AsyncIterator[QueueSubscription]:
        sub = QueueSubscription()
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
                sub.lose()
