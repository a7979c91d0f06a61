"""Connection intervals written in batches: the joins and leaves that arrive while one batch is
being written go together in the next, in one transaction (group commit).

A transaction per join and per leave made a thousand sockets reconnecting at once two
thousand transactions on the database pool, on top of the handshake's reads
(docs/performance.md). When nothing is being written a join or leave is written at once, so a
quiet server adds no delay. An interval that opens and closes within one batch is written
once, already closed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel.ext.asyncio.session import AsyncSession

from app.storage import group_sessions as store
from app.storage.tables import ConnectionInterval

if TYPE_CHECKING:  # app.access needs app.services, which holds an IntervalWrites
    from app.access import Seat

log = logging.getLogger("village.attendance")


class Interval:
    """One socket's stay in a group room, as the writer tracks it."""

    __slots__ = ("batch", "id", "joined_at", "left_at", "lost", "seat", "written_left")

    def __init__(self, seat: Seat, joined_at: datetime) -> None:
        self.seat = seat
        self.joined_at = joined_at
        self.left_at: datetime | None = None
        self.id: int | None = None  # once its row is written
        self.written_left = False
        self.lost = False  # its join could not be written: nothing more is written for it
        self.batch: asyncio.Future[None] | None = None  # the batch it waits in, if any


Write = Callable[[list[Interval]], Awaitable[None]]


class IntervalWrites:
    """Queue joins and leaves; one task writes them, a batch at a time."""

    def __init__(self) -> None:
        self._queue: list[Interval] = []
        self._next: asyncio.Future[None] | None = None  # done when the queued batch is written
        self._task: asyncio.Task[None] | None = None

    def add(self, iv: Interval, write: Write) -> None:
        """Queue iv's join (id None) or leave (left_at set); `write(batch)` runs soon."""
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
        iv.batch = self._next
        self._queue.append(iv)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(write), name="interval-writes")

    async def written(self, iv: Interval) -> None:
        """Until the batch holding iv's latest join or leave has been written (or failed)."""
        if iv.batch is not None:
            await asyncio.shield(iv.batch)

    async def drain(self, wait_secs: float) -> None:
        """At shutdown, before the database closes: let the batches queued so far finish."""
        if self._task is not None and not self._task.done():
            await asyncio.wait({self._task}, timeout=wait_secs)

    async def _run(self, write: Write) -> None:
        while self._queue:
            batch, done = self._queue, self._next
            self._queue, self._next = [], None
            try:
                await write(batch)
            except Exception:
                log.exception("attendance: %s joins or leaves not recorded", len(batch))
                for iv in batch:
                    if iv.id is None:
                        iv.lost = True
                    else:
                        iv.written_left = True  # lost: the interval ends at its last beat
            finally:
                if done is not None and not done.done():
                    done.set_result(None)


async def write_batch(s: AsyncSession, worker: str, batch: list[Interval]) -> None:
    """Insert the new intervals (one INSERT … RETURNING for all) and close the rest."""
    distinct = list(dict.fromkeys(batch))  # a join and its leave may share a batch
    new = [iv for iv in distinct if iv.id is None and not iv.lost]
    leaves = [iv for iv in distinct if iv.id is not None and iv.left_at and not iv.written_left]
    rows = [
        ConnectionInterval(
            room_id=iv.seat.room_id,
            group_id=iv.seat.group_id,
            user_id=iv.seat.user_id,
            role=iv.seat.role,
            worker=worker,
            joined_at=iv.joined_at,
            last_seen_at=iv.left_at or iv.joined_at,
            left_at=iv.left_at,
        )
        for iv in new
    ]
    if rows:
        s.add_all(rows)
        await s.flush()
    if leaves:
        await store.close_intervals(s, [(iv.id, iv.left_at) for iv in leaves])  # type: ignore[misc]
    # Only after the statements: a failure leaves every interval as it was.
    for iv, row in zip(new, rows, strict=True):
        iv.id = row.id
        iv.written_left = iv.left_at is not None
    for iv in leaves:
        iv.written_left = True
