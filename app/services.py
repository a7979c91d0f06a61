"""What the domain actions need, built once in the lifespan and passed explicitly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from app.attendance_writes import IntervalWrites
from app.batched_reads import HandshakeReads
from app.clock import Clock
from app.ratelimits import RateLimits
from app.realtime.broker import Broker
from app.realtime.coalesce import Coalescer
from app.realtime.hub import Hub
from app.settings import Settings
from app.storage.database import Database


@dataclass
class Services:
    settings: Settings
    db: Database
    clock: Clock
    broker: Broker
    hub: Hub
    limits: RateLimits
    # Called after a commit that wrote to the notification outbox: wakes the dispatcher now
    # instead of at its next poll (it is a latency hint; the poll alone loses nothing).
    outbox_written: Callable[[], None] = lambda: None
    # Staff roster frames, at most one per room per coalescing window (see attendance).
    rosters: Coalescer = field(default_factory=Coalescer)
    # Joins and leaves of group rooms, written in batches (see attendance).
    intervals: IntervalWrites = field(default_factory=IntervalWrites)
    # WebSocket handshakes' reads, answered together when they arrive together.
    handshake_reads: HandshakeReads = field(default_factory=HandshakeReads)


def offline_services(settings: Settings) -> Services:
    """Services for the CLI and tests: real database, a broker that reaches no sockets."""
    from app.clock import SystemClock
    from app.realtime.memory_broker import MemoryBroker
    from app.realtime.presence import MemoryPresence

    async def no_backlog(*_: object) -> list:  # type: ignore[type-arg]
        return []

    async def no_head(_: int) -> int:
        return 0

    broker = MemoryBroker()
    return Services(
        settings=settings,
        db=Database(settings.database_url),
        clock=SystemClock(),
        broker=broker,
        hub=Hub(broker, MemoryPresence(), no_backlog, no_head),
        limits=RateLimits(settings),
    )
