"""Redis restarts mid-conversation: workers report it, then every client converges, and an
escalation opened during the outage still reaches the clinician's dashboard."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from tests.conftest import ORIGIN, Person, World
from tests.escalations.conftest import pick
from tests.scaleout.conftest import db_messages
from tests.support.chat_client import ChatClient, wait_acked, wait_caught_up
from tests.support.processes import RedisServer, Worker, redis_server, worker_env

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres]

# The goal is 5 s. Met on a quiet machine (4 of 4 runs with VILLAGE_CATCH_UP_SECS=5, twice): the
# listener is back ~0.1 s after Redis and every socket is told to resume ~1 s after. On a
# machine at load average ~10 on 2 cores, 2 of 4 runs needed more than 5 s for the resent
# messages to be acknowledged (docs/performance.md), so the bound here stays 15 s.
# VILLAGE_CATCH_UP_SECS=5 checks the goal itself.
CATCH_UP_SECS = float(os.environ.get("VILLAGE_CATCH_UP_SECS", "15"))


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server


class Dashboard:
    """The clinician's live feed (/ws/staff): the escalation ids she has been shown; it
    reconnects whenever the server closes it (the queue snapshot is resent on connect)."""

    def __init__(self, person: Person, base: str) -> None:
        self.person, self.base = person, base
        self.seen: set[int] = set()

    async def run(self) -> None:
        while True:
            with contextlib.suppress(OSError, WebSocketException):
                async with connect(
                    f"{self.base}/ws/staff", additional_headers=self.person.ws_headers(ORIGIN)
                ) as ws:
                    async for raw in ws:
                        frame = json.loads(raw)
                        if frame["type"] == "queue":
                            self.seen.update(item["id"] for item in frame["items"])
                        elif frame["type"] == "escalation":
                            self.seen.add(frame["id"])
            await asyncio.sleep(0.1)


async def escalation_ids(db_url: str) -> set[int]:
    import asyncpg

    conn = await asyncpg.connect(db_url.replace("+asyncpg", ""))
    try:
        return {r["id"] for r in await conn.fetch("SELECT id FROM escalations")}
    finally:
        await conn.close()


async def visible_seqs(db_url: str, room_id: int, user_id: int, staff: bool) -> list[int]:
    """The seqs this person should receive: held messages reach only staff and the sender."""
    import asyncpg

    conn = await asyncpg.connect(db_url.replace("+asyncpg", ""))
    try:
        rows = await conn.fetch(
            "SELECT seq, status, sender_id FROM messages WHERE room_id = $1 ORDER BY seq", room_id
        )
    finally:
        await conn.close()
    return [r["seq"] for r in rows if r["status"] != "held" or staff or r["sender_id"] == user_id]


def readiness(worker: Worker) -> tuple[int, dict[str, str]]:
    try:
        with urllib.request.urlopen(worker.http_base + "/readyz", timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


async def test_clients_converge_after_redis_restarts_with_nothing_lost(
    pg_world: World, own_redis: RedisServer, prefix: str
) -> None:
    """Redis dies and comes back while four members on two workers keep sending: /readyz
    says the broker is down meanwhile, and within seconds of its return every client has every
    message once, in order, the same as the database; the escalation Amara's message opened
    during the outage is on Dr Ade's dashboard."""
    env = worker_env(pg_world.settings.database_url, own_redis.url, prefix, ORIGIN)
    workers = [Worker(env), Worker(env)]
    clients = [
        ChatClient(pg_world.people[k], pg_world.room_id)
        for k in ("amara", "facilitator", "bea", "clinician")
    ]
    stop = asyncio.Event()
    resumed: list[str] = []

    async def chatter(c: ChatClient) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            await c.send(f"{c.tag} says {n}")
            await asyncio.sleep(0.05)

    async def resume_when_dropped(c: ChatClient, home: Worker) -> None:
        while True:
            await c.closed.wait()
            resumed.append(c.tag)
            await c.resume([home.ws_base])

    tasks: list[asyncio.Task[None]] = []
    try:
        for w in workers:
            w.start(wait=False)
        for w in workers:
            w.wait_ready()
        for i, c in enumerate(clients):
            await c.connect(workers[i % 2].ws_base)
        dashboard = Dashboard(pg_world.people["clinician"], workers[1].ws_base)
        tasks = [asyncio.create_task(chatter(c)) for c in clients]
        tasks += [
            asyncio.create_task(resume_when_dropped(c, workers[i % 2]))
            for i, c in enumerate(clients)
        ]
        tasks.append(asyncio.create_task(dashboard.run()))
        await asyncio.sleep(0.8)
        own_redis.stop()
        await asyncio.sleep(1.0)
        status, body = await asyncio.to_thread(readiness, workers[0])
        assert (status, body["broker"], body["database"]) == (503, "down", "ok")
        await clients[0].send(pick("high"))  # Amara, on worker 1, while Redis is down
        own_redis.start()
        await asyncio.sleep(1.0)
        stop.set()
        await asyncio.gather(*tasks[: len(clients)])
        await wait_acked(clients, CATCH_UP_SECS)
        stored = await db_messages(pg_world.settings.database_url, pg_world.room_id)
        head = stored[-1][0]
        await wait_caught_up(clients, head, CATCH_UP_SECS)
        await asyncio.sleep(0.2)  # anything still in flight would show up as a duplicate
        assert [c.pending for c in clients] == [{}, {}, {}, {}]
        assert {cid for c in clients for cid in c.acked} <= {cid for _, cid, _ in stored}
        url = pg_world.settings.database_url
        for key, c in zip(("amara", "facilitator", "bea", "clinician"), clients, strict=True):
            expected = await visible_seqs(
                url, pg_world.room_id, pg_world.people[key].id, key in ("facilitator", "clinician")
            )
            assert sorted(c.transcript) == c.transcript == expected, c.tag
        opened = await escalation_ids(url)
        assert opened, "the risk message opened no escalation"
        for _ in range(int(CATCH_UP_SECS / 0.05)):
            if opened <= dashboard.seen:
                break
            await asyncio.sleep(0.05)
        assert opened <= dashboard.seen
        status, body = await asyncio.to_thread(readiness, workers[1])
        assert (status, body["broker"]) == (200, "ok")
        # Every socket was told to resume once the broker was back (it re-authorises).
        assert sorted(set(resumed)) == sorted(c.tag for c in clients)
    finally:
        stop.set()
        for t in tasks:
            t.cancel()
        for c in clients:
            await c.close()
        for w in workers:
            w.stop()
