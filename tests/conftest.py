"""Shared fixtures: real databases (SQLite file and this machine's PostgreSQL), personas.

Storage and room tests take the `db_url` fixture, which runs them on both backends.
Each PostgreSQL test run uses its own fresh database, so parallel runs never collide.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from argon2 import PasswordHasher

import app.passwords
from app.settings import Settings

PG_ADMIN_DSN = os.environ.get("VILLAGE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
ORIGIN = "http://testserver"

# Argon2 at full strength costs ~0.1 s a hash; tests make dozens of accounts.
app.passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # CI must never pass by skipping the PostgreSQL, Redis or browser tests.
    if os.environ.get("CI") and session.config.pluginmanager.has_plugin("terminalreporter"):
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
        if skipped:
            print(f"\nCI: {skipped} test(s) were skipped; skips are not allowed in CI")
            session.exitstatus = 1


async def _pg_exec(dsn: str, *statements: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        for sql in statements:
            await conn.execute(sql)
    finally:
        await conn.close()


def in_thread(fn, *args):  # type: ignore[no-untyped-def]
    """Run fn in a fresh thread: safe even while a browser test's event loop is running."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args).result()


def _pg_url(name: str) -> str:
    base = PG_ADMIN_DSN.rsplit("/", 1)[0]
    return base.replace("postgresql://", "postgresql+asyncpg://") + "/" + name


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    name = f"village_t_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        asyncio.run(_pg_exec(PG_ADMIN_DSN, f'CREATE DATABASE "{name}"'))
    except OSError as exc:  # pragma: no cover - a machine without PostgreSQL
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    url = _pg_url(name)
    from app.migrate import upgrade

    upgrade(url)
    yield url
    asyncio.run(_pg_exec(PG_ADMIN_DSN, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "template.db"
    from app.migrate import upgrade

    in_thread(upgrade, f"sqlite+aiosqlite:///{path}")
    return path


async def _truncate_all(url: str) -> None:
    from sqlmodel import SQLModel

    import app.storage.tables  # noqa: F401

    names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    await _pg_exec(url.replace("+asyncpg", ""), f"TRUNCATE {names} RESTART IDENTITY CASCADE")


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "village.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("pg_database")
    asyncio.run(_truncate_all(url))
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    path = tmp_path / "village.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


def make_settings(db_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": "test",
        "database_url": db_url,
        "public_url": ORIGIN,
        "broker_url": "memory://",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@dataclass
class Person:
    id: int
    email: str
    name: str
    token: str = ""

    @property
    def cookie(self) -> str:
        return f"village_session={self.token}"

    def ws_headers(self, origin: str = ORIGIN) -> dict[str, str]:
        return {"cookie": self.cookie, "origin": origin}


PASSWORD = "correct horse battery"


@dataclass
class World:
    settings: Settings
    group_id: int = 0
    room_id: int = 0
    other_group_id: int = 0
    other_room_id: int = 0
    people: dict[str, Person] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Person:
        try:
            return self.__dict__["people"][name]
        except KeyError:
            raise AttributeError(name) from None


async def build_world(settings: Settings) -> World:
    """admin; group "Evening circle" with facilitator, clinician, amara, bea, removed;
    group "Morning group" with outsider (a member elsewhere, not of this group)."""
    from app import accounts, groups
    from app.services import offline_services
    from app.storage import groups as group_store

    svc = offline_services(settings)
    world = World(settings)
    try:
        org = await groups.ensure_org(svc, "Test org")
        admin = await accounts.create_user(
            svc,
            org_id=org.id,
            email="admin@t.test",
            display_name="Admin",
            password=PASSWORD,
            is_admin=True,
        )
        g = await groups.create_group(
            svc, admin, name="Evening circle", description="d", agreements="Be kind."
        )
        other = await groups.create_group(
            svc, admin, name="Morning group", description="d", agreements="Be kind."
        )
        roster = [
            ("facilitator", "Rosa", "facilitator", g),
            ("clinician", "Dr Ade", "clinician", g),
            ("amara", "Amara", "member", g),
            ("bea", "Bea", "member", g),
            ("removed", "Rem", "member", g),
            ("outsider", "Olive", "member", other),
        ]
        people = {"admin": admin}
        for key, name, role, grp in roster:
            user = await accounts.create_user(
                svc, org_id=org.id, email=f"{key}@t.test", display_name=name, password=PASSWORD
            )
            await groups.assign(svc, admin, grp.id, user.email, role)  # type: ignore[arg-type]
            await groups.accept_agreements(svc, user, grp.id)  # type: ignore[arg-type]
            people[key] = user
        await groups.remove_member(svc, admin, g.id, people["removed"].id)  # type: ignore[arg-type]
        for key, user in people.items():
            token, _ = await accounts.login(svc, user.email, PASSWORD, f"10.0.0.{user.id}")
            world.people[key] = Person(user.id, user.email, user.display_name, token)  # type: ignore[arg-type]
        async with svc.db.transaction() as s:
            world.room_id = (await group_store.group_room(s, g.id)).id  # type: ignore[union-attr, arg-type, assignment]
            world.other_room_id = (await group_store.group_room(s, other.id)).id  # type: ignore[union-attr, arg-type, assignment]
        world.group_id, world.other_group_id = g.id, other.id  # type: ignore[assignment]
    finally:
        await svc.db.aclose()
    return world


@pytest.fixture
def settings(db_url: str) -> Settings:
    return make_settings(db_url)


@pytest.fixture
def world(settings: Settings) -> World:
    return asyncio.run(build_world(settings))


@pytest.fixture
def client(world: World) -> Iterator[object]:
    from starlette.testclient import TestClient

    from app.factory import create_app

    with TestClient(create_app(world.settings), base_url=ORIGIN) as c:
        yield c
