"""Coalesced updates: a burst of requests costs one update, and the last request is honoured."""

from __future__ import annotations

import asyncio

from app.realtime.coalesce import Coalescer


async def test_burst_of_requests_runs_one_update_with_the_newest_request() -> None:
    """500 sockets joining at once ask for 500 rosters; staff get one, and it is current."""
    seen: list[int] = []
    rosters = Coalescer(delay=0.01)
    for n in range(500):

        async def update(n: int = n) -> None:
            seen.append(n)

        rosters.request("room-1", update)
    await asyncio.sleep(0.1)
    assert seen == [499]


async def test_request_while_updating_runs_again_after_and_never_overlaps() -> None:
    """A join that lands while the roster is being computed is not lost, and two computations
    of one room never interleave (an older frame must not arrive last)."""
    running = 0
    overlapped = False
    done: list[str] = []
    gate = asyncio.Event()
    rosters = Coalescer(delay=0.0)

    def make(tag: str, room: int = 1):  # type: ignore[no-untyped-def]
        async def update() -> None:
            nonlocal running, overlapped
            running += room == 1
            overlapped |= running > 1
            if tag == "first":
                await gate.wait()
            running -= room == 1
            done.append(tag)

        return update

    rosters.request("room-1", make("first"))
    await asyncio.sleep(0.01)  # "first" is running now
    rosters.request("room-1", make("second"))
    rosters.request("room-2", make("other room", room=2))
    await asyncio.sleep(0.01)
    gate.set()
    await asyncio.sleep(0.05)
    assert done == ["other room", "first", "second"] and not overlapped


async def test_failed_update_does_not_stop_later_ones() -> None:
    rosters = Coalescer(delay=0.0)
    done: list[str] = []

    async def broken() -> None:
        raise RuntimeError("database went away")

    async def fine() -> None:
        done.append("ok")

    rosters.request("room-1", broken)
    await asyncio.sleep(0.02)
    rosters.request("room-1", fine)
    await asyncio.sleep(0.02)
    assert done == ["ok"]


async def test_aclose_drops_waiting_updates() -> None:
    rosters = Coalescer(delay=0.05)
    done: list[str] = []

    async def update() -> None:
        done.append("late")

    rosters.request("room-1", update)
    await rosters.aclose()
    await asyncio.sleep(0.1)
    assert done == []
