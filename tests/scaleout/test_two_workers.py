"""Two real uvicorn workers sharing PostgreSQL and Redis: chat, and a worker killed mid-chat."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import World
from tests.scaleout.conftest import db_messages
from tests.support.chat_client import ChatClient, wait_acked, wait_caught_up
from tests.support.processes import Worker

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres]

CHATTERS = ("amara", "facilitator", "bea", "clinician")
CATCH_UP_SECS = 5.0


async def join_alternately(world: World, workers: list[Worker]) -> list[ChatClient]:
    clients = [ChatClient(world.people[k], world.room_id) for k in CHATTERS]
    for i, c in enumerate(clients):
        await c.connect(workers[i % 2].ws_base)
    return clients


async def test_members_on_different_workers_see_every_message_once_in_order(
    two_workers: list[Worker], pg_world: World
) -> None:
    """Amara and Rosa on one worker, Bea and Dr Ade on the other: everyone gets all 80
    messages once each, in the room's order, the same as the database."""
    clients = await join_alternately(pg_world, two_workers)
    try:
        for round_ in range(20):
            await asyncio.gather(*(c.send(f"round {round_} from {c.tag}") for c in clients))
        stored = await _wait_stored(pg_world, 80)
        await wait_caught_up(clients, 80, CATCH_UP_SECS)
        for c in clients:
            assert c.transcript == list(range(1, 81)), c.tag
            assert [c.bodies[s] for s, _, _ in stored] == [b for _, _, b in stored]
            assert not c.pending and not c.errors
    finally:
        for c in clients:
            await c.close()


async def test_clients_of_a_killed_worker_resume_on_the_other_with_nothing_lost(
    two_workers: list[Worker], pg_world: World
) -> None:
    """SIGKILL one worker while everyone keeps sending: its clients reconnect to the other
    worker with their last seen id; every transcript equals the database, caught up in 5 s."""
    doomed, survivor = two_workers
    clients = await join_alternately(pg_world, two_workers)
    stop = asyncio.Event()

    async def chatter(c: ChatClient) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            await c.send(f"{c.tag} says {n}")
            await asyncio.sleep(0.03)

    async def resume_when_dropped(c: ChatClient) -> None:
        while not stop.is_set():
            await c.closed.wait()
            if stop.is_set():
                return
            await c.resume([survivor.ws_base])

    tasks = [asyncio.create_task(chatter(c)) for c in clients]
    tasks += [asyncio.create_task(resume_when_dropped(c)) for c in clients]
    try:
        await asyncio.sleep(1.0)
        doomed.kill()
        await asyncio.sleep(1.5)
        stop.set()
        for t in tasks[: len(clients)]:
            await t
        # Whatever was sent to the dead worker and never acknowledged is resent on resume.
        await wait_acked(clients, CATCH_UP_SECS)
        stored = await db_messages(pg_world.settings.database_url, pg_world.room_id)
        head = stored[-1][0]
        await wait_caught_up(clients, head, CATCH_UP_SECS)
        assert [s for s, _, _ in stored] == list(range(1, head + 1))
        acked = {cid for c in clients for cid in c.acked}
        assert acked <= {cid for _, cid, _ in stored}
        for c in clients:
            assert c.check(head) == (0, 0), c.tag
        # The doomed worker's clients really were cut off and resumed elsewhere.
        assert [len(c.close_codes) for c in clients] == [1, 0, 1, 0]
    finally:
        stop.set()
        for t in tasks:
            t.cancel()
        for c in clients:
            await c.close()


async def _wait_stored(world: World, n: int) -> list[tuple[int, str, str]]:
    for _ in range(200):
        stored = await db_messages(world.settings.database_url, world.room_id)
        if len(stored) >= n:
            return stored
        await asyncio.sleep(0.05)
    raise AssertionError(f"only {len(stored)} of {n} messages stored")
