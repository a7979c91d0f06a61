"""One contract for every broker backend (memory and the real Redis), plus Redis outages."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from collections.abc import AsyncIterator

import pytest

from app.realtime.broker import Broker, BrokerLost, broker_from_url
from tests.support.processes import SHARED_REDIS, redis_server

pytestmark = pytest.mark.redis


@pytest.fixture(params=["memory", "redis"])
async def broker(request: pytest.FixtureRequest) -> AsyncIterator[Broker]:
    url = "memory://" if request.param == "memory" else SHARED_REDIS
    b = broker_from_url(url, prefix=f"t-{uuid.uuid4().hex}")
    await b.start()
    yield b
    await b.aclose()


async def take(sub: object, n: int, within: float = 5.0) -> list[bytes]:
    got: list[bytes] = []

    async def run() -> None:
        async for data in sub:  # type: ignore[attr-defined]
            got.append(data)
            if len(got) == n:
                return

    await asyncio.wait_for(run(), within)
    return got


async def test_subscriber_receives_publications_in_order(broker: Broker) -> None:
    """Frames published after subscribing arrive once each, in publication order."""
    async with broker.subscribe("room:1") as sub:
        for i in range(300):
            await broker.publish("room:1", f"frame {i}".encode())
        assert await take(sub, 300) == [f"frame {i}".encode() for i in range(300)]


async def test_channels_are_separate(broker: Broker) -> None:
    """A room's subscriber never sees another room's frames."""
    async with broker.subscribe("room:1") as one, broker.subscribe("room:2") as two:
        await broker.publish("room:2", b"for two")
        await broker.publish("room:1", b"for one")
        assert await take(one, 1) == [b"for one"]
        assert await take(two, 1) == [b"for two"]


async def test_two_subscribers_of_one_channel_both_receive(broker: Broker) -> None:
    """Two sockets' rooms on one worker share a channel; leaving one keeps the other."""
    async with broker.subscribe("room:1") as a:
        async with broker.subscribe("room:1") as b:
            await broker.publish("room:1", b"both")
            assert await take(a, 1) == [b"both"]
            assert await take(b, 1) == [b"both"]
        await broker.publish("room:1", b"still here")
        assert await take(a, 1) == [b"still here"]


async def test_close_wakes_subscribers_with_broker_lost(broker: Broker) -> None:
    """Closing the broker never leaves a subscriber hanging."""
    async with broker.subscribe("room:1") as sub:
        await broker.aclose()
        with pytest.raises(BrokerLost):
            await take(sub, 1)
    assert broker.healthy is False


async def test_publication_reaches_another_worker() -> None:
    """Two Redis brokers (two workers) with one prefix share channels; another prefix does not."""
    prefix = f"t-{uuid.uuid4().hex}"
    a, b, other = (broker_from_url(SHARED_REDIS, prefix=p) for p in (prefix, prefix, prefix + "-x"))
    for br in (a, b, other):
        await br.start()
    try:
        async with b.subscribe("room:7") as sub, other.subscribe("room:7") as stranger:
            await a.publish("room:7", b"hello")
            assert await take(sub, 1) == [b"hello"]
            with pytest.raises(TimeoutError):
                await take(stranger, 1, within=0.3)
    finally:
        for br in (a, b, other):
            await br.aclose()


@pytest.mark.slow
async def test_redis_restart_wakes_subscribers_and_recovers() -> None:
    """Redis goes away: subscribers get BrokerLost and health is down; it comes back: both heal."""
    with redis_server() as server:
        b = broker_from_url(server.url, prefix="t")
        await b.start()
        try:
            assert b.healthy
            async with b.subscribe("room:1") as sub:
                server.stop()
                with pytest.raises(BrokerLost):
                    await take(sub, 1)
            assert b.healthy is False
            server.start()
            for _ in range(100):
                if b.healthy:
                    break
                await asyncio.sleep(0.05)
            assert b.healthy
            async with b.subscribe("room:1") as sub:
                await b.publish("room:1", b"after the restart")
                assert await take(sub, 1) == [b"after the restart"]
        finally:
            await b.aclose()


async def test_broker_that_cannot_reach_redis_reports_unhealthy() -> None:
    """No Redis at start-up: the worker still starts, reports down, and subscriptions fail fast."""
    with redis_server() as server:
        url = server.url
    b = broker_from_url(url, prefix="t")
    await b.start()
    try:
        assert b.healthy is False
        async with b.subscribe("room:1") as sub:
            with pytest.raises(BrokerLost):
                await take(sub, 1)
    finally:
        await b.aclose()


@pytest.mark.slow
async def test_silent_redis_is_noticed_by_the_health_check() -> None:
    """Redis stops answering without closing the connection (a network partition, simulated
    by pausing the server): the listener notices within a few checks and wakes subscribers."""
    from app.realtime.redis_broker import RedisBroker

    with redis_server() as server:
        b = RedisBroker(server.url, prefix="t", health_check_secs=0.2)
        await b.start()
        assert server.proc is not None
        try:
            async with b.subscribe("room:1") as sub:
                os.kill(server.proc.pid, signal.SIGSTOP)
                try:
                    with pytest.raises(BrokerLost):
                        await take(sub, 1, within=5.0)
                    assert b.healthy is False
                finally:
                    os.kill(server.proc.pid, signal.SIGCONT)
        finally:
            await b.aclose()
