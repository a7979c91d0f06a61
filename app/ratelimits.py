"""Rate limits on the `limits` library: sliding-window counters, in memory or shared through Redis.

Not the moving-window strategy: its in-memory async storage hands every key to a thread on
every expiry pass, which cost ~5 ms of CPU per message with a thousand members online
(docs/performance.md); the sliding-window counter costs a small fraction of that.

While Redis is unreachable the limits fail open (and log): a mother's message is never refused
because the shared counter is down; the database, not Redis, is what must be up to chat.
"""

from __future__ import annotations

import logging
import time

from limits import RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string
from redis.exceptions import RedisError

from app.ratelimit_pipeline import PipelinedSlidingWindow
from app.settings import Settings

log = logging.getLogger("village.ratelimits")
LOGIN_WINDOW_MINUTES = 15
_UNREACHABLE = (RedisError, OSError)
# Memory cleanup only: every read already drops its own key once expired.
EXPIRY_SWEEP_SECS = 5.0


class SweepingMemoryStorage(MemoryStorage):
    """limits' in-memory storage starts a sweep of every key after each hit once the last
    sweep has finished, so with a thousand members online each message paid for a pass over
    thousands of keys (~8% of a worker's CPU at 300 messages/s, docs/performance.md). Counts
    are unchanged: only how often expired keys are swept out of memory."""

    _next_sweep = 0.0

    async def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + EXPIRY_SWEEP_SECS
        await super()._MemoryStorage__schedule_expiry()  # type: ignore[misc]


def _storage_url(broker_url: str) -> str:
    # With Redis as the broker, limits are shared by every worker through the same server.
    if broker_url.startswith(("redis://", "rediss://")):
        return "async+" + broker_url
    return "async+memory://"


class RateLimits:
    def __init__(self, settings: Settings) -> None:
        url = _storage_url(settings.broker_url)
        options: dict[str, str | float] = {}
        if "redis" in url:
            options = {
                "implementation": "redispy",
                "key_prefix": f"{settings.redis_prefix}:limits",
                # A restarting Redis must fail a check quickly (and open), not hang a send.
                "socket_timeout": 2.0,
                "socket_connect_timeout": 2.0,
            }
        storage = (
            SweepingMemoryStorage()
            if url == "async+memory://"
            else storage_from_string(url, **options)
        )
        assert isinstance(storage, Storage)
        if isinstance(storage, RedisStorage):
            # One message check in flight per worker, the rest pipelined behind it: this also
            # keeps redis-py's (unbounded) pool from opening a connection per waiting send,
            # which it did under load, at ~1 ms of CPU each (docs/performance.md).
            PipelinedSlidingWindow(storage).install()
        self.storage = storage
        self._limiter = SlidingWindowCounterRateLimiter(storage)
        self._login_account = RateLimitItemPerMinute(
            settings.login_attempts_per_account, LOGIN_WINDOW_MINUTES
        )
        self._login_address = RateLimitItemPerMinute(
            settings.login_attempts_per_address, LOGIN_WINDOW_MINUTES
        )
        self._messages = RateLimitItemPerSecond(
            settings.messages_per_window, settings.rate_window_seconds
        )
        self.message_window_seconds = settings.rate_window_seconds

    async def login_allowed(self, email: str, address: str) -> bool:
        """Checks without counting: only failures count against the limit."""
        try:
            account_ok = await self._limiter.test(self._login_account, "login-acct", email)
            address_ok = await self._limiter.test(self._login_address, "login-addr", address)
        except _UNREACHABLE as exc:
            log.warning("login limit unavailable (%s): allowing", type(exc).__name__)
            return True
        return account_ok and address_ok

    async def login_failed(self, email: str, address: str) -> None:
        try:
            await self._limiter.hit(self._login_account, "login-acct", email)
            await self._limiter.hit(self._login_address, "login-addr", address)
        except _UNREACHABLE as exc:
            log.warning("login limit unavailable (%s): failure not counted", type(exc).__name__)

    async def message_allowed(self, user_id: int, room_id: int) -> bool:
        try:
            return await self._limiter.hit(self._messages, "msg", str(user_id), str(room_id))
        except _UNREACHABLE as exc:
            log.warning("message limit unavailable (%s): allowing", type(exc).__name__)
            return True
