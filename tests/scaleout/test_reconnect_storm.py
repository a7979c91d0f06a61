"""A reconnect storm: a thousand sockets resume at the same moment, each exactly caught up."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import World
from tests.support.chat_client import ChatClient, wait_caught_up
from tests.support.processes import Worker

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres]

CLIENTS = 1000
PEOPLE = ("amara", "bea", "facilitator", "clinician")  # several tabs each
STORM_SECS = 60.0  # bound on two shared cores; typically well under half of it


async def test_thousand_clients_reconnecting_at_once_all_resume_correctly(
    two_workers: list[Worker], pg_world: World
) -> None:
    """1,000 sockets over two workers drop; five messages are sent meanwhile; all reconnect
    at once with their last seen id and each gets exactly the five it missed, in order."""
    clients = [
        ChatClient(pg_world.people[PEOPLE[i % 4]], pg_world.room_id, tag=f"c{i}")
        for i in range(CLIENTS)
    ]
    speaker = ChatClient(pg_world.people["amara"], pg_world.room_id, tag="speaker")
    bases = [w.ws_base for w in two_workers]
    try:
        for start in range(0, CLIENTS, 100):
            batch = clients[start : start + 100]
            await asyncio.gather(*(c.connect(bases[i % 2]) for i, c in enumerate(batch)))
        await speaker.connect(bases[0])
        for n in range(1, 6):
            await speaker.send(f"before the storm {n}")
        await wait_caught_up([*clients, speaker], 5, 30)
        await asyncio.gather(*(c.close() for c in clients))
        for n in range(6, 11):
            await speaker.send(f"while everyone was away {n}")
        await wait_caught_up([speaker], 10, 10)

        started = asyncio.get_running_loop().time()
        await asyncio.wait_for(
            asyncio.gather(
                *(c.connect(bases[i % 2], within=STORM_SECS) for i, c in enumerate(clients))
            ),
            STORM_SECS,
        )
        await wait_caught_up(clients, 10, 10)
        took = asyncio.get_running_loop().time() - started
        busy = sum(c.busy_closes for c in clients)
        print(f"storm: all {CLIENTS} resumed in {took:.1f} s; {busy} told to retry (busy)")
        wrong = [c.tag for c in clients if c.transcript != list(range(1, 11))]
        assert wrong == []
    finally:
        await asyncio.gather(*(c.close() for c in clients), speaker.close())
