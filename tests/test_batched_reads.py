"""Reads asked together are answered together, each with its own answer, and a failing or
abandoned ask never strands the others."""

from __future__ import annotations

import asyncio

import pytest

from app.batched_reads import Batched


async def test_asks_arriving_while_a_batch_runs_share_the_next_batch() -> None:
    """Thirty asks at once: the first batch answers them all, each with its own answer."""
    batches: list[list[int]] = []

    async def answer_all(asks: list[int]) -> list[int]:
        batches.append(asks)
        await asyncio.sleep(0.01)
        return [a * 10 for a in asks]

    reads: Batched[int, int] = Batched()
    answers = await asyncio.gather(*(reads.ask(i, answer_all) for i in range(30)))
    assert answers == [i * 10 for i in range(30)]
    assert batches == [list(range(30))]


async def test_a_failed_batch_fails_its_asks_and_the_next_batch_still_runs() -> None:
    calls = 0

    async def answer_all(asks: list[str]) -> list[str]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError("database gone")
        return [a.upper() for a in asks]

    reads: Batched[str, str] = Batched()
    with pytest.raises(OSError, match="database gone"):
        await reads.ask("a", answer_all)
    assert await reads.ask("b", answer_all) == "B"


async def test_an_ask_given_up_on_is_skipped_and_the_rest_are_answered() -> None:
    """A socket whose handshake deadline passed stops waiting; the batch still answers the
    others, and nothing is left unanswered."""
    release = asyncio.Event()

    async def answer_all(asks: list[int]) -> list[int]:
        await release.wait()
        return asks

    reads: Batched[int, int] = Batched()
    first = asyncio.create_task(reads.ask(1, answer_all))
    await asyncio.sleep(0)
    waiting = [asyncio.create_task(reads.ask(i, answer_all)) for i in (2, 3)]
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await reads.ask(4, answer_all)
    release.set()
    assert await first == 1
    assert [await t for t in waiting] == [2, 3]
