"""Facilitators mute members for N minutes; the mute is enforced on every send."""

from __future__ import annotations

from starlette.testclient import TestClient

from app.clock import FakeClock
from tests.conftest import World
from tests.facilitation.conftest import audit_rows, entered, get, post, query
from tests.web.test_room_socket import connect, recv_until, send


def test_muted_member_cannot_send_until_the_mute_ends(
    client: TestClient, world: World, clock: FakeClock
) -> None:
    """A muted member's message is refused with the end time; after it ends she can send."""
    with connect(client, world, "amara") as a, connect(client, world, "bea") as b:
        entered(a)
        entered(b)
        r = post(
            client,
            world,
            "facilitator",
            f"/members/{world.amara.id}/mute",
            {"minutes": 10, "reason": "Cooling off"},
        )
        assert r.status_code == 200, r.text
        until = r.json()["muted_until"]
        state = recv_until(a, "mute_state")
        assert state == {
            "type": "mute_state",
            "room": world.room_id,
            "user_id": world.amara.id,
            "muted_until": until,
        }
        send(a, "can I still talk?", "m1")
        err = recv_until(a, "error")
        assert err["code"] == "muted" and err["client_id"] == "m1" and err["until"] == until
        assert err["message"].startswith("A facilitator has paused your messages in this group")
        # Others are not muted, and nothing of the refused message reached them.
        send(b, "I can", "b1")
        assert recv_until(b, "ack")["seq"] == 1
        assert recv_until(a, "message")["body"] == "I can"
        clock.advance(minutes=10, seconds=1)
        send(a, "back again", "m2")
        assert recv_until(a, "ack")["seq"] == 2
    (row,) = audit_rows(world, "member.mute")
    assert row.actor_id == world.facilitator.id and row.target_id == world.amara.id
    assert row.detail["minutes"] == 10 and row.detail["reason"] == "Cooling off"


def test_a_reconnecting_muted_member_is_told_of_her_mute(client: TestClient, world: World) -> None:
    """The mute is in the state sent after catching up, so a reload does not hide it."""
    post(client, world, "facilitator", f"/members/{world.amara.id}/mute", {"minutes": 5})
    with connect(client, world, "amara") as a:
        assert entered(a)[-1]["locked"] is False
        assert recv_until(a, "mute_state")["user_id"] == world.amara.id


def test_unmute_lets_the_member_send_again(client: TestClient, world: World) -> None:
    """Lifting a mute takes effect at once and is audited."""
    post(client, world, "facilitator", f"/members/{world.amara.id}/mute", {"minutes": 60})
    r = post(client, world, "facilitator", f"/members/{world.amara.id}/unmute")
    assert r.json() == {"ok": True, "muted_until": None}
    with connect(client, world, "amara") as a:
        entered(a)
        send(a, "thank you", "u1")
        assert recv_until(a, "ack")["seq"] == 1
    again = post(client, world, "facilitator", f"/members/{world.amara.id}/unmute")
    assert again.status_code == 409 and again.json()["message"] == "This member is not muted."
    (row,) = audit_rows(world, "member.unmute")
    assert row.actor_id == world.facilitator.id and row.target_id == world.amara.id


def test_mute_rules(client: TestClient, world: World) -> None:
    """Staff cannot be muted, minutes are bounded, members and strangers cannot mute."""
    r = post(client, world, "facilitator", f"/members/{world.clinician.id}/mute", {"minutes": 5})
    assert r.status_code == 403 and r.json()["message"] == "Only members can be muted."
    r = post(client, world, "facilitator", f"/members/{world.amara.id}/mute", {"minutes": 0})
    assert r.status_code == 400
    assert r.json()["message"] == "A mute can last 1 to 1440 minutes."
    r = post(client, world, "facilitator", f"/members/{world.outsider.id}/mute", {"minutes": 5})
    assert r.status_code == 404
    r = post(client, world, "bea", f"/members/{world.amara.id}/mute", {"minutes": 5})
    assert r.status_code == 403
    r = post(client, world, "outsider", f"/members/{world.amara.id}/mute", {"minutes": 5})
    assert r.status_code == 404
    assert audit_rows(world, "member.mute") == []
    assert get(client, world, "bea", "/moderation").status_code == 403


def test_facilitator_panel_lists_members_and_their_mutes(client: TestClient, world: World) -> None:
    """The panel shows who is in the group and until when each muted member is muted."""
    r = post(client, world, "facilitator", f"/members/{world.bea.id}/mute", {"minutes": 5})
    panel = get(client, world, "facilitator", "/moderation").json()
    people = {m["name"]: m for m in panel["members"]}
    assert set(people) == {"Amara", "Bea", "Dr Ade", "Rosa"}
    assert people["Bea"]["muted_until"] == r.json()["muted_until"]
    assert people["Amara"]["muted_until"] is None
    assert panel["locked"] is False and panel["slow_mode_seconds"] == 0 and panel["flags"] == []


def test_a_muted_member_can_still_write_to_the_care_team_privately(
    client: TestClient, world: World
) -> None:
    """A mute pauses the group room only: her private follow-up room still takes messages."""
    query(
        world,
        "INSERT INTO rooms (group_id, kind, member_id, last_seq, created_at) "
        f"VALUES ({world.group_id}, 'private', {world.amara.id}, 0, '2026-01-01 00:00:00')",
    )
    (private_id,) = query(world, "SELECT id FROM rooms WHERE kind = 'private'")[0]
    post(client, world, "facilitator", f"/members/{world.amara.id}/mute", {"minutes": 30})
    with client.websocket_connect(f"/ws/rooms/{private_id}", headers=world.amara.ws_headers()) as p:
        send(p, "I need to talk to someone", "p1")
        assert recv_until(p, "ack")["seq"] == 1
    with connect(client, world, "amara") as a:
        entered(a)
        send(a, "and to the group", "g1")
        assert recv_until(a, "error")["code"] == "muted"
