"""A real uvicorn server and real WebSocket clients (the `websockets` library)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.conftest import World, build_world, make_settings
from tests.live import free_port, serve


@pytest.fixture
def live(db_url: str) -> Iterator[tuple[str, World]]:
    port = free_port()
    settings = make_settings(db_url, public_url=f"http://127.0.0.1:{port}")
    world = asyncio.run(build_world(settings))
    with serve({"VILLAGE_DATABASE_URL": db_url}, port=port) as base:
        yield base, world


async def _open(base: str, world: World, who: str, after: int | None = None) -> ClientConnection:
    url = base.replace("http", "ws") + f"/ws/rooms/{world.room_id}"
    if after is not None:
        url += f"?after={after}"
    return await connect(
        url, additional_headers=world.people[who].ws_headers(base), compression=None
    )


async def _until(ws: ClientConnection, kind: str) -> dict[str, Any]:
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if frame["type"] == kind:
            return frame


async def _conversation(base: str, world: World) -> None:
    amara = await _open(base, world, "amara")
    bea = await _open(base, world, "bea")
    await _until(amara, "caught_up")
    seen = (await _until(bea, "caught_up"))["last_seq"]
    for i in range(3):
        await amara.send(json.dumps({"type": "send", "client_id": f"a{i}", "body": f"hi {i}"}))
        await _until(amara, "ack")
    got = [(await _until(bea, "message"))["body"] for _ in range(3)]
    assert got == ["hi 0", "hi 1", "hi 2"]
    seen = 3
    await bea.close()  # her phone drops
    for i in range(3, 7):
        await amara.send(json.dumps({"type": "send", "client_id": f"a{i}", "body": f"hi {i}"}))
        await _until(amara, "ack")
    bea = await _open(base, world, "bea", after=seen)
    frames = []
    while True:
        frame = json.loads(await asyncio.wait_for(bea.recv(), 5))
        frames.append(frame)
        if frame["type"] == "caught_up":
            break
    missed = [(f["seq"], f["body"]) for f in frames if f["type"] == "message"]
    assert missed == [(4, "hi 3"), (5, "hi 4"), (6, "hi 5"), (7, "hi 6")]
    # Live again: the next message arrives once.
    await amara.send(json.dumps({"type": "send", "client_id": "a7", "body": "welcome back"}))
    assert (await _until(bea, "message"))["seq"] == 8
    await amara.close()
    await bea.close()


def test_two_members_chat_and_resume_over_a_real_server(live: tuple[str, World]) -> None:
    """Over real sockets, a member who drops and resumes misses nothing and sees nothing twice."""
    base, world = live
    asyncio.run(_conversation(base, world))
