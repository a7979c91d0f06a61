"""Members, groups and sessions for a benchmark, made through Village's own actions."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher

import app.passwords
from app import accounts, groups
from app.services import offline_services
from app.settings import Settings
from app.storage import groups as group_store

PASSWORD = "bench password 123"


async def provision(settings: Settings, rooms: int, members: int) -> list[tuple[int, list[str]]]:
    """R groups of M members each; returns [(room_id, [session token per member])]."""
    # Full-strength argon2 would cost minutes for a thousand accounts; logins are not measured.
    app.passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    svc = offline_services(settings)
    out: list[tuple[int, list[str]]] = []
    try:
        org = await groups.ensure_org(svc, "Bench org")
        admin = await accounts.create_user(
            svc,
            org_id=org.id,  # type: ignore[arg-type]
            email="admin@bench.test",
            display_name="Admin",
            password=PASSWORD,
            is_admin=True,
        )
        for r in range(rooms):
            g = await groups.create_group(
                svc, admin, name=f"Room {r}", description="bench", agreements="Be kind."
            )
            tokens = []
            for m in range(members):
                email = f"r{r}m{m}@bench.test"
                user = await accounts.create_user(
                    svc,
                    org_id=org.id,  # type: ignore[arg-type]
                    email=email,
                    display_name=f"Member {r}.{m}",
                    password=PASSWORD,
                )
                await groups.assign(svc, admin, g.id, email, "member")  # type: ignore[arg-type]
                await groups.accept_agreements(svc, user, g.id)  # type: ignore[arg-type]
                token, _ = await accounts.login(svc, email, PASSWORD, "127.0.0.1")
                tokens.append(token)
            async with svc.db.transaction() as s:
                room = await group_store.group_room(s, g.id)  # type: ignore[arg-type]
            out.append((room.id, tokens))  # type: ignore[union-attr]
    finally:
        await svc.db.aclose()
    return out


def provision_sync(settings: Settings, rooms: int, members: int) -> list[tuple[int, list[str]]]:
    return asyncio.run(provision(settings, rooms, members))
