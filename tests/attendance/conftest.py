"""A running group on both databases, driven through the real domain functions with a
FakeClock: connections are opened and closed with the same hooks the WebSocket uses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import pytest

from app import accounts, attendance, groups, schedule
from app.access import Seat, enter_room
from app.clock import FakeClock
from app.services import Services, offline_services
from app.storage import accounts as account_store
from app.storage.tables import GroupSession, User
from tests.conftest import PASSWORD, World

# Tuesday 3 March 2026, 19:00 in New York (EST, UTC-5): 00:00 UTC on the 4th.
SESSION_DAY = date(2026, 3, 3)
SESSION_START_UTC = datetime(2026, 3, 4, 0, 0, tzinfo=UTC)


@dataclass
class Env:
    svc: Services
    clock: FakeClock
    world: World
    users: dict[str, User]

    async def access(self, who: str) -> Seat:
        return (await enter_room(self.svc, self.users[who], self.world.room_id)).seat

    async def join(self, who: str) -> tuple[Seat, int | None]:
        access = await self.access(who)
        return access, await attendance.connected(self.svc, access)

    async def leave(self, conn: tuple[Seat, int | None]) -> None:
        await attendance.disconnected(self.svc, conn[0], conn[1])

    async def schedule(self, minutes: int = 60, weeks: int = 1, **kw: Any) -> list[GroupSession]:
        return await schedule.schedule_sessions(
            self.svc,
            self.users["facilitator"],
            self.world.group_id,
            first_day=kw.pop("first_day", SESSION_DAY),
            start=kw.pop("start", time(19, 0)),
            minutes=minutes,
            weeks=weeks,
            **kw,
        )


async def make_env(world: World) -> Env:
    svc = offline_services(world.settings)
    clock = FakeClock(datetime(2026, 3, 3, 12, 0, tzinfo=UTC))
    svc.clock = clock
    users: dict[str, User] = {}
    async with svc.db.transaction() as s:
        for key, person in world.people.items():
            users[key] = await account_store.user_by_id(s, person.id)  # type: ignore[assignment]
    # A second facilitator with a credential on file, so notes can be signed.
    cps = await accounts.create_user(
        svc,
        org_id=users["admin"].org_id,
        email="cps@t.test",
        display_name="Cora",
        password=PASSWORD,
        credential="CPS",
    )
    await groups.assign(svc, users["admin"], world.group_id, cps.email, "facilitator")
    await groups.accept_agreements(svc, cps, world.group_id)
    users["cps"] = cps
    return Env(svc, clock, world, users)


@pytest.fixture
async def env(world: World) -> AsyncIterator[Env]:
    e = await make_env(world)
    try:
        yield e
    finally:
        await e.svc.db.aclose()
