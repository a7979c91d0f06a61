"""Reads asked for by many sockets at once, answered together: the asks that arrive while one
batch is being answered go together in the next (group commit, for reads).

In a reconnect storm every socket asks the database the same questions at the same moment
(who is this, may she enter, what did she miss). One at a time, each ask held a database
connection for a round trip per statement, and on a loaded worker a round trip lasts a turn
of a crowded event loop: 1,000 sockets queued for the few connections longer than the
handshake may wait (docs/performance.md). Together, a batch is one or a few statements.
Presence entries in Redis are added and removed the same way (app.realtime.redis_presence).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

Ask = TypeVar("Ask")
Answer = TypeVar("Answer")


class Batched(Generic[Ask, Answer]):
    """`await ask(question, answer_all)`: answer_all(list of questions) -> their answers, in
    order. While a batch is being answered, new questions wait for the next one."""

    def __init__(self) -> None:
        self._queue: list[tuple[Ask, asyncio.Future[Answer]]] = []
        self._task: asyncio.Task[None] | None = None

    async def ask(
        self, question: Ask, answer_all: Callable[[list[Ask]], Awaitable[list[Answer]]]
    ) -> Answer:
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._queue.append((question, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(answer_all), name="batched-read")
        return await future  # a waiter that gives up cancels its future: the batch skips it

    async def _run(self, answer_all: Callable[[list[Ask]], Awaitable[list[Answer]]]) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            waiting = [(q, f) for q, f in batch if not f.done()]
            if not waiting:
                continue
            try:
                answers = await answer_all([q for q, _ in waiting])
            except Exception as exc:
                for _, f in waiting:
                    if not f.done():
                        f.set_exception(exc)
                continue
            except BaseException:
                for _, f in waiting:  # cancelled (shutdown): no waiter is left hanging
                    f.cancel()
                raise
            for (_, f), answer in zip(waiting, answers, strict=True):
                if not f.done():
                    f.set_result(answer)


@dataclass
class HandshakeReads:
    """A worker's batched handshake reads (app.handshake)."""

    admissions: Batched[Any, Any] = field(default_factory=Batched)
    catch_ups: Batched[Any, Any] = field(default_factory=Batched)
