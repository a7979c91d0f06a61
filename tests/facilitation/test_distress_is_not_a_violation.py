"""Distress is never a violation: nothing automatic mutes, removes or hides anybody."""

from __future__ import annotations

import ast
from pathlib import Path

from starlette.testclient import TestClient

from tests.conftest import World
from tests.facilitation.conftest import audit_rows, entered, query
from tests.web.test_room_socket import connect, recv_until, send

RISK_TEXT = "I have the pills counted out and I'm going to take them tonight"
ROOT = Path(__file__).resolve().parents[2]
# Actions that restrict a person or a message: only transport (a person's request) calls them.
RESTRICTING = {
    "hide_message",
    "mute_member",
    "remove_member",
    "remove_from_room",
    "set_locked",
    "set_slow_mode",
}
ALLOWED_CALLERS = {"app/web", "app/room_moderation.py"}


def test_member_writing_risk_messages_is_never_muted_removed_or_hidden(
    client: TestClient, world: World
) -> None:
    """Twenty messages of imminent-risk text leave Amara a member, unmuted, her words not
    hidden, and no audit row of a restriction (nor any row without a person behind it)."""
    with connect(client, world, "amara") as a:
        entered(a)
        for i in range(20):
            send(a, f"{RISK_TEXT} ({i})", f"risk{i}")
            ack = recv_until(a, "ack")
            assert ack["client_id"] == f"risk{i}"
        send(a, "still here", "after")
        assert recv_until(a, "ack")["client_id"] == "after"
    membership = query(
        world,
        f"SELECT status, role FROM memberships WHERE user_id = {world.amara.id} "
        f"AND group_id = {world.group_id}",
    )
    assert membership == [("active", "member")]
    assert query(world, f"SELECT COUNT(*) FROM member_mutes WHERE user_id = {world.amara.id}") == [
        (0,)
    ]
    statuses = query(world, f"SELECT status FROM messages WHERE sender_id = {world.amara.id}")
    assert len(statuses) == 21 and ("hidden",) not in statuses
    assert query(world, "SELECT COUNT(*) FROM room_controls") == [(0,)]
    restricting = {"message.hide", "member.mute", "membership.remove", "room.lock"}
    rows = audit_rows(world)
    assert [r for r in rows if r.action in restricting and r.target_id == world.amara.id] == []
    assert all(r.actor_id is not None for r in rows if r.action in restricting)


def test_only_a_persons_request_can_restrict_anyone() -> None:
    """In the code, restricting actions are called only from transport (a person's request),
    and every one takes the acting person; the risk engine imports nothing of the app."""
    for path in sorted((ROOT / "app").rglob("*.py")) + sorted((ROOT / "moderation").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "attr", getattr(node.func, "id", ""))
                if name in RESTRICTING:
                    assert any(rel.startswith(p) for p in ALLOWED_CALLERS), (
                        f"{rel}:{node.lineno} calls {name}: only a person's request may"
                    )
            domain = not rel.startswith("app/web/")  # web handlers take the request
            if domain and isinstance(node, ast.AsyncFunctionDef) and node.name in RESTRICTING:
                assert node.args.args[1].arg == "actor", f"{rel}: {node.name} needs an actor"
            if rel.startswith("moderation/") and isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith("app"), f"{rel} imports the app"
