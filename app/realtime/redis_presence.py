"""Presence shared by every worker through Redis, with entries that outlive no worker.

Each room is a sorted set of connection entries scored by their expiry time. A worker
refreshes its own entries every heartbeat; the entries of a worker that died (SIGKILL, lost
host) expire after ENTRY_HEARTBEATS missed heartbeats. Whichever worker sweeps expired
entries out of a room calls `on_expired(room_id)`, and the hub republishes that room's
presence, so every worker's clients learn that the dead worker's people left.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from app.batched_reads import Batched
from app.realtime.presence import Card, distinct_cards

log = logging.getLogger("village.presence")

ENTRY_HEARTBEATS = 3  # an entry lives this many heartbeats without a refresh
CLOSE_WAIT_SECS = 2.0  # how long aclose waits for the heartbeat to stop
REDIS_CONNECTIONS = 8
CARD_CACHE_ENTRIES = 20_000  # decoded entries kept (a few hundred bytes each)
REDIS_TIMEOUT_SECS = 2.0  # a command, a connect, or a wait for a free connection


class RedisPresence:
    def __init__(self, url: str, prefix: str = "village", heartbeat_secs: float = 10.0) -> None:
        self.prefix = prefix
        self.heartbeat_secs = heartbeat_secs
        self.worker = uuid.uuid4().hex[:12]
        self.on_expired: Callable[[int], Awaitable[None]] | None = None
        # A blocking pool: with a plain one, the 500 joins of a reconnect wave overflowed its
        # 8 connections (MaxConnectionsError, seen in the redis bench), so entries waited for
        # the next heartbeat and that heartbeat could fail too.
        pool = aioredis.BlockingConnectionPool.from_url(
            url,
            max_connections=REDIS_CONNECTIONS,
            timeout=REDIS_TIMEOUT_SECS,
            socket_timeout=REDIS_TIMEOUT_SECS,
            socket_connect_timeout=REDIS_TIMEOUT_SECS,
        )
        self._client = aioredis.Redis.from_pool(pool)  # closed with the client
        self._local: dict[str, tuple[int, str]] = {}  # conn_key -> (room_id, entry)
        self._cards: dict[str | bytes, Card] = {}  # entry -> its decoded card
        self._heartbeat: asyncio.Task[None] | None = None
        self._adds: Batched[tuple[int, str], None] = Batched()
        self._removes: Batched[tuple[int, str], None] = Batched()
        self._closing = False

    def _key(self, room_id: int) -> str:
        return f"{self.prefix}:presence:{room_id}"

    def _expiry(self) -> float:
        return time.time() + self.heartbeat_secs * ENTRY_HEARTBEATS

    async def add(self, room_id: int, conn_key: str, card: Card) -> None:
        entry = json.dumps({"w": self.worker, "k": conn_key, "c": card}, sort_keys=True)
        self._local[conn_key] = (room_id, entry)
        if self._heartbeat is None:
            self._heartbeat = asyncio.create_task(self._beat_forever(), name="presence-heartbeat")
        with contextlib.suppress(RedisError, OSError):  # refreshed by the next heartbeat
            await self._adds.ask((room_id, entry), self._add_all)

    async def remove(self, room_id: int, conn_key: str) -> None:
        found = self._local.pop(conn_key, None)
        if found is None:
            return
        with contextlib.suppress(RedisError, OSError):  # expires on its own otherwise
            await self._removes.ask(found, self._remove_all)

    # Joins (and leaves) arriving while one pipeline is in flight go together in the next:
    # a reconnect storm's 500 joins per worker were 500 round trips on 8 connections.

    async def _add_all(self, entries: list[tuple[int, str]]) -> list[None]:
        expiry, ttl = self._expiry(), int(self.heartbeat_secs * ENTRY_HEARTBEATS) + 1
        by_room: dict[int, dict[str, float]] = {}
        for room_id, entry in entries:
            by_room.setdefault(room_id, {})[entry] = expiry
        pipe = self._client.pipeline(transaction=False)
        for room_id, room_entries in by_room.items():
            pipe.zadd(self._key(room_id), room_entries)
            pipe.expire(self._key(room_id), ttl)
        await pipe.execute()
        return [None] * len(entries)

    async def _remove_all(self, entries: list[tuple[int, str]]) -> list[None]:
        by_room: dict[int, list[str]] = {}
        for room_id, entry in entries:
            by_room.setdefault(room_id, []).append(entry)
        pipe = self._client.pipeline(transaction=False)
        for room_id, room_entries in by_room.items():
            pipe.zrem(self._key(room_id), *room_entries)
        await pipe.execute()
        return [None] * len(entries)

    async def members(self, room_id: int) -> list[Card]:
        try:
            entries = await self._client.zrangebyscore(self._key(room_id), time.time(), "+inf")
        except (RedisError, OSError):
            # Redis is down: say who is here on this worker rather than nobody.
            entries = [e for r, e in self._local.values() if r == room_id]
        return distinct_cards([self._card(e) for e in entries])

    def _card(self, entry: str | bytes) -> Card:
        # Every presence frame reads the whole room; in a 1,000-socket reconnect storm
        # decoding each entry's JSON again was ~4% of a worker's CPU (py-spy). An entry never
        # changes, so decode it once. Cards are read-only to every caller.
        card = self._cards.get(entry)
        if card is None:
            if len(self._cards) >= CARD_CACHE_ENTRIES:
                self._cards.clear()  # rare: cheaper than tracking recency
            card = self._cards[entry] = json.loads(entry)["c"]
        return card

    async def aclose(self) -> None:
        if self._heartbeat is not None:
            self._closing = True
            self._heartbeat.cancel()
            # Bounded: a cancellation that lands inside redis-py's pipeline can be swallowed
            # there (seen in the full test run), and a shutdown must never hang on presence.
            await asyncio.wait({self._heartbeat}, timeout=CLOSE_WAIT_SECS)
        if self._local:
            pipe = self._client.pipeline(transaction=False)
            for room_id, entry in self._local.values():
                pipe.zrem(self._key(room_id), entry)
            with contextlib.suppress(RedisError, OSError):
                await pipe.execute()
            self._local.clear()
        await self._client.aclose()

    async def _beat_forever(self) -> None:
        while not self._closing:
            await asyncio.sleep(self.heartbeat_secs)
            try:
                expired_rooms = await self.beat()
            except (RedisError, OSError) as exc:
                log.warning("presence heartbeat failed (%s)", type(exc).__name__)
                continue
            if self.on_expired is not None:
                for room_id in expired_rooms:
                    with contextlib.suppress(Exception):
                        await self.on_expired(room_id)

    async def beat(self) -> list[int]:
        """Refresh this worker's entries and sweep expired ones; return rooms that lost some."""
        now, expiry = time.time(), self._expiry()
        by_room: dict[int, dict[str, float]] = {}
        for room_id, entry in self._local.values():
            by_room.setdefault(room_id, {})[entry] = expiry
        if not by_room:
            return []
        rooms = sorted(by_room)
        ttl = int(self.heartbeat_secs * ENTRY_HEARTBEATS) + 1
        # Three commands per room, not one per connection: a heartbeat with 500 sockets was
        # ~7% of a loaded worker's CPU in the redis bench as 700 pipelined commands.
        pipe = self._client.pipeline(transaction=False)
        for room_id in rooms:
            key = self._key(room_id)
            pipe.zadd(key, by_room[room_id])
            pipe.expire(key, ttl)
            pipe.zremrangebyscore(key, "-inf", now)
        results = await pipe.execute()
        swept = results[2::3]
        return [room_id for room_id, n in zip(rooms, swept, strict=True) if n]
