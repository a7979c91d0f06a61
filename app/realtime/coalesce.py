"""Run an update once per key however often it is asked for.

A roster frame costs reads of every interval in the room and a fan-out to its staff; a
reconnect storm asks for one per socket, which is quadratic. Requests that arrive while an
update for the same key is waiting are folded into it, and updates of one key never overlap,
so the last frame sent reflects the last request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Hashable

log = logging.getLogger("village.coalesce")

COALESCE_SECS = 0.25  # staff see a roster change within this; a storm costs ~1 update per window


Update = Callable[[], Awaitable[None]]


class Coalescer:
    """`request(key, update)` runs `update()` after `delay` unless one is already waiting."""

    def __init__(self, *, delay: float = COALESCE_SECS) -> None:
        self._delay = delay
        self._waiting: dict[Hashable, Update] = {}
        self._tasks: dict[Hashable, asyncio.Task[None]] = {}

    def request(self, key: Hashable, update: Update) -> None:
        self._waiting[key] = update  # the newest request wins
        if key not in self._tasks:
            task = asyncio.create_task(self._drain(key), name=f"coalesce-{key}")
            self._tasks[key] = task

    async def _drain(self, key: Hashable) -> None:
        try:
            while key in self._waiting:
                await asyncio.sleep(self._delay)
                update = self._waiting.pop(key)
                try:
                    await update()
                except Exception:
                    log.exception("coalesced update for %r failed", key)
        finally:
            # No await between the loop's last check and here: a request arriving after this
            # point starts a new task.
            del self._tasks[key]

    async def aclose(self) -> None:
        """At shutdown: drop waiting updates and stop the ones running."""
        self._waiting.clear()
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
