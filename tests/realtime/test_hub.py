"""The per-worker hub with the in-process broker: ordering, gaps, audiences, slow clients."""

from __future__ import annotations

import asyncio

from app.realtime import closecodes
from app.realtime.envelope import Envelope, can_see, room_channel
from app.realtime.hub import Connection, Hub
from app.realtime.memory_broker import MemoryBroker
from app.realtime.presence import MemoryPresence

ROOM = 7


class Store:
    """Stands in for the database: the committed envelopes of one room."""

    def __init__(self) -> None:
        self.committed: list[Envelope] = []

    async def backlog(self, room_id: int, after: int) -> list[Envelope]:
        return [e for e in self.committed if e.seq > after]

    async def head(self, room_id: int) -> int:
        return max((e.seq for e in self.committed), default=0)

    def commit(self, seq: int, audience: str = "*") -> Envelope:
        env = Envelope(seq, audience, f'{{"seq":{seq}}}')
        self.committed.append(env)
        return env


async def _hub() -> tuple[Hub, MemoryBroker, Store]:
    broker, store = MemoryBroker(), Store()
    hub = Hub(broker, MemoryPresence(), store.backlog, store.head)
    await hub.start()
    return hub, broker, store


def _conn(user_id: int, role: str = "member", queue: int = 64) -> Connection:
    return Connection(
        user_id=user_id,
        room_id=ROOM,
        group_id=1,
        queue_size=queue,
        card={"id": user_id, "name": f"u{user_id}", "role": role},
    )


def _drain(conn: Connection) -> list[str]:
    return [f for f in conn.take() if '"seq"' in f and '"presence"' not in f]


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_missing_publication_is_filled_from_the_database() -> None:
    """If seq 2's publication never arrives, seq 3 triggers a catch-up: 1, 2, 3 in order."""
    hub, broker, store = await _hub()
    conn = _conn(1)
    await hub.join(conn)
    conn.finish_sync([])
    for seq in (1, 2, 3):
        env = store.commit(seq)
        if seq != 2:  # lost on the way
            await broker.publish(room_channel(ROOM), env.encode())
    await _settle()
    assert _drain(conn) == ['{"seq":1}', '{"seq":2}', '{"seq":3}']
    await hub.aclose()


async def test_out_of_order_publications_are_delivered_once_in_order() -> None:
    """Publishers racing (3 before 2) never make a client skip or repeat a message."""
    hub, broker, store = await _hub()
    conn = _conn(1)
    await hub.join(conn)
    conn.finish_sync([])
    envs = [store.commit(s) for s in (1, 2, 3)]
    for env in (envs[0], envs[2], envs[1]):
        await broker.publish(room_channel(ROOM), env.encode())
    await _settle()
    assert _drain(conn) == ['{"seq":1}', '{"seq":2}', '{"seq":3}']
    await hub.aclose()


async def test_backlog_and_live_overlap_is_sent_once() -> None:
    """Messages that arrive live while the backlog is read are not sent twice."""
    hub, broker, store = await _hub()
    conn = _conn(1)
    await hub.join(conn)
    backlog = [store.commit(1), store.commit(2)]
    await broker.publish(room_channel(ROOM), backlog[1].encode())  # live, during the sync
    await broker.publish(room_channel(ROOM), store.commit(3).encode())
    await _settle()
    conn.finish_sync(backlog)
    assert _drain(conn) == ['{"seq":1}', '{"seq":2}', '{"seq":3}']
    await hub.aclose()


async def test_slow_client_is_told_to_resume_and_room_keeps_going() -> None:
    """A socket that stops reading is closed with 4000; the others keep receiving."""
    hub, broker, store = await _hub()
    slow, fast = _conn(1, queue=3), _conn(2, queue=64)
    for c in (slow, fast):
        await hub.join(c)
        c.finish_sync([])
    _drain(fast)
    slow.take()
    for seq in range(1, 8):
        await broker.publish(room_channel(ROOM), store.commit(seq).encode())
        await _settle()
    assert slow.close_code == closecodes.RESUME
    assert len(_drain(fast)) == 7
    await hub.aclose()


def test_audiences() -> None:
    """Held frames reach staff and the sender; member-only frames skip staff."""
    held = "staff,u:5"
    assert can_see(held, 5, "member") and can_see(held, 9, "clinician")
    assert not can_see(held, 6, "member")
    assert can_see("members", 6, "member") and not can_see("members", 9, "facilitator")
    assert can_see("*", 1, "member")


async def test_held_message_does_not_block_the_next_for_members() -> None:
    """A member who cannot see seq 1 (held) still gets seq 2 without a stall."""
    hub, broker, store = await _hub()
    member, staff = _conn(6), _conn(9, role="clinician")
    for c in (member, staff):
        await hub.join(c)
        c.finish_sync([])
    await broker.publish(room_channel(ROOM), store.commit(1, "staff,u:5").encode())
    await broker.publish(room_channel(ROOM), store.commit(2).encode())
    await _settle()
    assert _drain(member) == ['{"seq":2}']
    assert _drain(staff) == ['{"seq":1}', '{"seq":2}']
    await hub.aclose()


async def test_lost_broker_tells_sockets_to_resume_and_the_room_listens_again() -> None:
    """When the broker drops and comes back, every socket is told to resume (close commands
    published meanwhile were missed, so each re-authorises), and the room listens again."""
    hub, broker, store = await _hub()
    conn = _conn(1)
    await hub.join(conn)
    conn.finish_sync([])
    _drain(conn)
    await broker.aclose()  # every subscriber is woken with BrokerLost
    store.commit(1)
    store.commit(2)
    await broker.start()
    for _ in range(100):
        if conn.close_code is not None:
            break
        await asyncio.sleep(0.02)
    assert conn.close_code == closecodes.RESUME
    await hub.leave(conn)
    again = _conn(1)
    await hub.join(again)
    again.finish_sync(await store.backlog(ROOM, 0))
    await hub.publish(ROOM, [store.commit(3)])
    await _settle()
    assert _drain(again) == ['{"seq":1}', '{"seq":2}', '{"seq":3}']
    await hub.aclose()


async def test_resume_after_missing_more_than_a_queue_gets_every_message() -> None:
    """A member back after missing more messages than a socket may queue gets all of them
    rather than a RESUME close (which would repeat at every reconnect, since nothing was
    sent); live frames behind that backlog are still bounded by the queue."""
    hub, broker, store = await _hub()
    conn = _conn(1, queue=3)
    await hub.join(conn)
    conn.finish_sync([store.commit(seq) for seq in range(1, 11)])
    assert conn.close_code is None
    for seq in (11, 12):  # live, queued behind the backlog: within the queue
        await broker.publish(room_channel(ROOM), store.commit(seq).encode())
        await _settle()
    assert conn.close_code is None
    assert _drain(conn) == [f'{{"seq":{seq}}}' for seq in range(1, 13)]
    for seq in range(13, 17):  # nobody reads: the live frames overflow the queue
        await broker.publish(room_channel(ROOM), store.commit(seq).encode())
        await _settle()
    assert conn.close_code == closecodes.RESUME
    await hub.aclose()
