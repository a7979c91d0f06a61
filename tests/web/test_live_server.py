"""A real uvicorn server and real WebSocket clients (the `websockets` library)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import World, build_world, make_settings
from tests.live import free_port, serve

SLOW_QUEUE_FRAMES = 16  # VILLAGE_OUTBOUND_QUEUE_SIZE for the slow-reader test


@pytest.fixture
def live(db_url: str) -> Iterator[tuple[str, World]]:
    port = free_port()
    settings = make_settings(db_url, public_url=f"http://127.0.0.1:{port}")
    world = asyncio.run(build_world(settings))
    with serve({"VILLAGE_DATABASE_URL": db_url}, port=port) as base:
        yield base, world


@pytest.fixture
def live_small_queue(sqlite_url: str) -> Iterator[tuple[str, World]]:
    port = free_port()
    settings = make_settings(sqlite_url, public_url=f"http://127.0.0.1:{port}")
    world = asyncio.run(build_world(settings))
    env = {
        "VILLAGE_DATABASE_URL": sqlite_url,
        "VILLAGE_OUTBOUND_QUEUE_SIZE": str(SLOW_QUEUE_FRAMES),
        "VILLAGE_MESSAGES_PER_WINDOW": "100000",
    }
    with serve(env, port=port) as base:
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


async def _stalled_reader(base: str, world: World, who: str) -> ClientConnection:
    """A client that stops reading (a phone on a dead network): a tiny receive buffer that
    nothing empties, so the server's writes back up."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", int(base.rsplit(":", 1)[1])))
    url = base.replace("http", "ws") + f"/ws/rooms/{world.room_id}"
    ws = await connect(
        url, sock=sock, additional_headers=world.people[who].ws_headers(base), compression=None
    )
    await _until(ws, "caught_up")
    ws.transport.pause_reading()
    return ws


async def _count_acks(ws: ClientConnection, count: int) -> None:
    acked = 0
    while acked < count:
        acked += json.loads(await asyncio.wait_for(ws.recv(), 30))["type"] == "ack"


async def _slow_reader_is_told_to_resume(base: str, world: World) -> None:
    amara = await _open(base, world, "amara")
    await _until(amara, "caught_up")
    bea = await _stalled_reader(base, world, "bea")
    count, body = 1_500, "x" * 3_900
    # The room keeps going for Amara (she reads as she sends) while Bea is stalled.
    acks = asyncio.create_task(_count_acks(amara, count))
    for i in range(count):
        await amara.send(json.dumps({"type": "send", "client_id": f"s{i}", "body": f"{i} {body}"}))
    await acks
    bea.transport.resume_reading()
    seqs, close_code = [], None
    try:
        while True:
            frame = json.loads(await asyncio.wait_for(bea.recv(), 10))
            if frame["type"] == "message":
                seqs.append(frame["seq"])
    except ConnectionClosed as closed:
        close_code = closed.rcvd.code if closed.rcvd else None
    assert close_code == 4000
    assert 0 < len(seqs) < count
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # in order, no gap
    # She resumes from the last message she saw and gets the rest, once each.
    bea = await _open(base, world, "bea", after=seqs[-1])
    rest = []
    while True:
        frame = json.loads(await asyncio.wait_for(bea.recv(), 10))
        if frame["type"] == "message":
            rest.append(frame["seq"])
        if frame["type"] == "caught_up":
            break
    assert seqs + rest == list(range(seqs[0], seqs[0] + count))
    await amara.close()
    await bea.close()


def test_a_member_who_stops_reading_is_told_to_resume_and_misses_nothing(
    live_small_queue: tuple[str, World],
) -> None:
    """Over real sockets, a client that stops reading while the room is busy is closed with
    4000 (resume) once its queue is full; the sender is never held up, and resuming from the
    last message seen gives the rest, in order, each once."""
    base, world = live_small_queue
    asyncio.run(_slow_reader_is_told_to_resume(base, world))
