"""Admins view, filter and export the audit log; nobody else can."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from starlette.testclient import TestClient

from app.audit_log import safe_cell
from app.clock import FakeClock
from tests.conftest import World
from tests.facilitation.conftest import audit_rows, csrf_of, entered, post
from tests.web.test_room_socket import connect, recv_until, send


def _some_moderation(client: TestClient, world: World) -> None:
    with connect(client, world, "amara") as a:
        entered(a)
        send(a, "hello", "a1")
        recv_until(a, "ack")
    post(client, world, "facilitator", "/messages/1/hide", {"reason": '=HYPERLINK("x")'})
    post(client, world, "facilitator", f"/members/{world.bea.id}/mute", {"minutes": 5})
    post(client, world, "bea", "/messages/1/report")


def test_every_facilitator_action_writes_an_audit_row(client: TestClient, world: World) -> None:
    """Hide, unhide, mute, unmute, lock, unlock, slow mode, report, resolve and remove:
    one row each, naming the person who acted and the target."""
    _some_moderation(client, world)
    post(client, world, "facilitator", "/messages/1/unhide")
    post(client, world, "facilitator", f"/members/{world.bea.id}/unmute")
    post(client, world, "facilitator", "/lock", {"locked": True})
    post(client, world, "facilitator", "/lock", {"locked": False})
    post(client, world, "facilitator", "/slow-mode", {"seconds": 10})
    flag_id = client.get(
        f"/api/rooms/{world.room_id}/flags", headers={"cookie": world.facilitator.cookie}
    ).json()["flags"][0]["id"]
    post(client, world, "facilitator", f"/flags/{flag_id}/resolve")
    post(client, world, "facilitator", f"/members/{world.bea.id}/remove")
    expected = {
        "message.hide": (world.facilitator.id, "message"),
        "message.unhide": (world.facilitator.id, "message"),
        "member.mute": (world.facilitator.id, "user"),
        "member.unmute": (world.facilitator.id, "user"),
        "room.lock": (world.facilitator.id, "room"),
        "room.unlock": (world.facilitator.id, "room"),
        "room.slow_mode": (world.facilitator.id, "room"),
        "message.report": (world.bea.id, "message"),
        "flag.resolve": (world.facilitator.id, "flag"),
    }
    for action, (actor, target_type) in expected.items():
        (row,) = audit_rows(world, action)
        assert (row.actor_id, row.target_type, row.group_id) == (actor, target_type, world.group_id)
        assert row.target_id is not None
    removal = [r for r in audit_rows(world, "membership.remove") if r.target_id == world.bea.id]
    assert [r.actor_id for r in removal] == [world.facilitator.id]


def test_admin_filters_the_audit_log(client: TestClient, world: World, clock: FakeClock) -> None:
    """Filters by action, actor, group and date range narrow the table."""
    _some_moderation(client, world)
    cookie = {"cookie": world.admin.cookie}
    page = client.get("/admin/audit?action=member.mute", headers=cookie)
    assert page.status_code == 200
    assert page.text.count("<td>member.mute</td>") == 1 and "<td>message.hide</td>" not in page.text
    by_bea = client.get(f"/admin/audit?actor_id={world.bea.id}", headers=cookie).text
    assert "<td>message.report</td>" in by_bea and "<td>member.mute</td>" not in by_bea
    other = client.get(f"/admin/audit?group_id={world.other_group_id}", headers=cookie).text
    assert "<td>member.mute</td>" not in other and "Morning group" in other
    today = clock.now().date()
    future = client.get(f"/admin/audit?from={today + timedelta(days=1)}", headers=cookie).text
    assert "No entries match." in future
    in_range = client.get(f"/admin/audit?from={today}&to={today}", headers=cookie).text
    assert "<td>member.mute</td>" in in_range
    bad = client.get("/admin/audit?from=yesterday", headers=cookie)
    assert bad.status_code == 400 and "Dates must look like 2026-11-26." in bad.text


def test_only_admins_see_the_audit_log(client: TestClient, world: World) -> None:
    """Facilitators, clinicians and members get 404 for the page and the export."""
    for who in ("facilitator", "clinician", "amara"):
        cookie = {"cookie": world.people[who].cookie}
        assert client.get("/admin/audit", headers=cookie).status_code == 404
        assert client.get("/admin/audit.csv", headers=cookie).status_code == 404
    anonymous = client.get("/admin/audit.csv", follow_redirects=False)
    assert anonymous.status_code == 303


def test_csv_export_escapes_formulas(client: TestClient, world: World) -> None:
    """The export is CSV with the filters applied; cells that a spreadsheet would run as a
    formula start with a quote; the export itself is audited."""
    _some_moderation(client, world)
    post(client, world, "facilitator", f"/members/{world.bea.id}/remove", {"reason": "-1+2"})
    admin = {"cookie": world.admin.cookie}
    r = client.get("/admin/audit.csv?action=membership.remove", headers=admin)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"].startswith('attachment; filename="village-audit-')
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert {row["action"] for row in rows} == {"membership.remove"}
    mine = [row for row in rows if row["target_id"] == str(world.bea.id)]
    assert mine[0]["actor"] == "Rosa" and mine[0]["target"] == "Bea"
    assert mine[0]["detail"] == '{"reason": "-1+2"}'
    hide = client.get("/admin/audit.csv?action=message.hide", headers=admin)
    (hide_row,) = csv.DictReader(io.StringIO(hide.text))
    assert hide_row["detail"].startswith("{")  # JSON detail: the formula sits inside it
    made = client.post(
        "/admin/groups",
        data={"csrf": csrf_of(client, world, "admin"), "name": "=SUM(1+1)", "agreements": "k"},
        headers=admin,
    )
    assert made.status_code == 200
    created = client.get("/admin/audit.csv?action=group.create", headers=admin)
    names = {row["group"] for row in csv.DictReader(io.StringIO(created.text))}
    assert "'=SUM(1+1)" in names and "=SUM(1+1)" not in names
    exports = audit_rows(world, "audit.export")
    assert [e.actor_id for e in exports] == [world.admin.id] * 3
    assert exports[0].detail == {"rows": len(rows), "action": "membership.remove"}
    assert [safe_cell(v) for v in ("=SUM(A1)", "+1", "-2", "@x", "ok", None)] == [
        "'=SUM(A1)",
        "'+1",
        "'-2",
        "'@x",
        "ok",
        "",
    ]


def test_the_database_refuses_to_change_or_delete_audit_rows(world: World) -> None:
    """UPDATE and DELETE on audit_log fail in the database itself, on SQLite and PostgreSQL."""
    import asyncio

    from sqlalchemy import text

    from app.storage.database import Database

    async def attempt(statement: str) -> str:
        db = Database(world.settings.database_url)
        try:
            async with db.transaction() as s:
                await s.exec(text(statement))  # type: ignore[call-overload]
        except Exception as exc:
            return str(exc)
        finally:
            await db.aclose()
        return "allowed"

    before = len(audit_rows(world))
    assert before > 0
    for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
        assert "audit_log is append-only" in asyncio.run(attempt(statement))
    assert len(audit_rows(world)) == before
