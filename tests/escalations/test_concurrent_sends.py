"""Many sends at once (the group-commit path on SQLite, concurrent transactions on PostgreSQL):
every message stored once, ids gap-free, risk never lost among the ordinary ones."""

from __future__ import annotations

import asyncio

from app import messages
from app.access import enter_room
from app.clock import FakeClock
from app.storage import accounts as account_store
from app.storage.tables import Message
from tests.conftest import World
from tests.escalations.conftest import pick
from tests.escalations.helpers import escalations, rows, services

PER_PERSON = 15


async def test_a_busy_room_stores_every_message_once_with_gap_free_ids(
    world: World, clock: FakeClock
) -> None:
    """Four people send 15 messages each at the same moment, one of them words of high risk
    and one a resend: 60 rows, ids 1..60, the resend acknowledged with its first id, and the
    risk message escalated and held as if it had been sent alone."""
    svc = services(world.settings, clock)
    try:
        senders = []
        for who in ("amara", "bea", "facilitator", "clinician"):
            async with svc.db.transaction() as s:
                user = await account_store.user_by_id(s, world.people[who].id)
            senders.append((await enter_room(svc, user, world.room_id)).seat)  # type: ignore[arg-type]
        risky = pick("imminent")

        def body(who: int, n: int) -> str:
            return risky if (who, n) == (1, 7) else f"hello {who}-{n}"

        sent = await asyncio.gather(
            *(
                messages.send_message(svc, senders[w], f"m{w}-{n}", body(w, n))
                for n in range(PER_PERSON)
                for w in range(len(senders))
            ),
            messages.send_message(svc, senders[0], "m0-3", "hello 0-3"),
        )
        stored = await rows(svc, Message)
        assert sorted(m.seq for m in stored) == list(range(1, 4 * PER_PERSON + 1))
        assert len({m.id for m in stored}) == 4 * PER_PERSON
        firsts = [s for s in sent if s.message.client_id == "m0-3"]
        assert [s.duplicate for s in firsts] in ([False, True], [True, False])
        assert firsts[0].message.seq == firsts[1].message.seq
        [held] = [m for m in stored if m.client_id == "m1-7"]
        assert held.status == "held" and held.body == risky
        [esc] = await escalations(svc)
        assert esc.message_id == held.id and esc.kind == "escalation"
        assert all(m.status == "visible" for m in stored if m.client_id != "m1-7")
    finally:
        await svc.db.aclose()
