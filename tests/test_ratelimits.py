"""The in-memory rate-limit store: limits still hold, and expired counters still leave memory."""

from __future__ import annotations

import asyncio

import pytest

from app import ratelimits
from app.ratelimits import RateLimits, SweepingMemoryStorage
from app.settings import Settings


async def test_message_limit_holds_per_member_and_room() -> None:
    """The sweep change must not loosen the limit: the 11th message in the window is refused,
    while another member (or the same one in another room) is unaffected."""
    limits = RateLimits(Settings(environment="test", messages_per_window=10))
    assert isinstance(limits.storage, SweepingMemoryStorage)
    assert [await limits.message_allowed(1, 7) for _ in range(11)] == [True] * 10 + [False]
    assert await limits.message_allowed(2, 7)
    assert await limits.message_allowed(1, 8)


async def test_expired_counters_are_swept_out_of_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """A long-running worker must not keep a counter for every member who ever wrote."""
    monkeypatch.setattr(ratelimits, "EXPIRY_SWEEP_SECS", 0.0)
    storage = SweepingMemoryStorage()
    await storage.incr("old", expiry=0.01)
    await asyncio.sleep(0.05)
    await storage.incr("new", expiry=60)
    await asyncio.sleep(0.05)  # the sweep runs as its own task
    assert set(storage.storage) == {"new"}
