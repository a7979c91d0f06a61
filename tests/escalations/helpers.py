"""Domain-level helpers: services on the test's database with a fake clock."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from app import messages
from app.access import enter_room
from app.clock import FakeClock
from app.notifications.dispatcher import Dispatcher
from app.services import Services, offline_services
from app.settings import Settings
from app.storage import accounts as account_store
from app.storage.tables import AuditEntry, Escalation, Notification


def services(settings: Settings, clock: FakeClock) -> Services:
    svc = offline_services(settings)
    svc.clock = clock
    return svc


async def send(svc: Services, user_id: int, room_id: int, body: str, client_id: str) -> Any:
    async with svc.db.transaction() as s:
        user = await account_store.user_by_id(s, user_id)
    assert user is not None
    access = await enter_room(svc, user, room_id)
    return await messages.send_message(svc, access.seat, client_id, body)


async def rows(svc: Services, table: Any, *where: Any) -> list[Any]:
    async with svc.db.transaction() as s:
        q = select(table)
        for w in where:
            q = q.where(w)
        return list((await s.exec(q.order_by(table.id))).all())


async def escalations(svc: Services) -> list[Escalation]:
    return await rows(svc, Escalation)


async def notifications(svc: Services) -> list[Notification]:
    return await rows(svc, Notification)


async def audit_actions(svc: Services) -> list[str]:
    return [a.action for a in await rows(svc, AuditEntry)]


__all__ = [
    "Dispatcher",
    "audit_actions",
    "escalations",
    "notifications",
    "rows",
    "send",
    "services",
]
