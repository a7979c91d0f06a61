"""Signing in and out, sessions that end, CSRF, invites and the group agreements."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from starlette.testclient import TestClient, WebSocketDenialResponse
from starlette.websockets import WebSocketDisconnect

from app.clock import FakeClock
from app.factory import create_app
from tests.conftest import ORIGIN, PASSWORD, World


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "page has no CSRF field"
    return match.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> object:
    page = client.get("/login")
    return client.post(
        "/login",
        data={"csrf": csrf_of(page.text), "email": email, "password": password},
        follow_redirects=False,
    )


def test_sign_in_then_see_my_groups(client: TestClient, world: World) -> None:
    """A member signs in with email and password and sees her group."""
    r = sign_in(client, "amara@t.test")
    assert r.status_code == 303 and r.headers["location"] == "/groups"
    page = client.get("/groups")
    assert "Evening circle" in page.text and "Morning group" not in page.text


def test_wrong_password_and_unknown_email_look_the_same(client: TestClient, world: World) -> None:
    """The sign-in error never reveals whether an email has an account."""
    wrong = sign_in(client, "amara@t.test", "not her password")
    unknown = sign_in(client, "nobody@t.test", "not her password")
    assert wrong.status_code == unknown.status_code == 400
    message = "That email and password do not match an account."
    assert message in wrong.text and message in unknown.text


def test_sign_in_is_throttled_per_account(client: TestClient, world: World) -> None:
    """After 5 failures in 15 minutes the account refuses even the right password."""
    for _ in range(5):
        assert sign_in(client, "bea@t.test", "guessing wrong").status_code == 400
    r = sign_in(client, "bea@t.test")
    assert r.status_code == 429
    assert "Too many sign-in attempts. Please wait 15 minutes and try again." in r.text


def test_form_without_csrf_token_is_refused(client: TestClient, world: World) -> None:
    """A cross-site form post (no token) cannot sign someone out or in."""
    r = client.post("/login", data={"email": "amara@t.test", "password": PASSWORD})
    assert r.status_code == 403
    assert "This form has expired" in r.text
    r = client.post("/logout", data={"csrf": "forged"}, headers={"cookie": world.amara.cookie})
    assert r.status_code == 403
    assert client.get("/groups", headers={"cookie": world.amara.cookie}).status_code == 200


def test_logout_revokes_the_session(client: TestClient, world: World) -> None:
    """After signing out, the old cookie opens nothing, even if it was copied."""
    page = client.get("/groups", headers={"cookie": world.bea.cookie})
    client.post("/logout", data={"csrf": csrf_of(page.text)}, headers={"cookie": world.bea.cookie})
    r = client.get("/groups", headers={"cookie": world.bea.cookie}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_deactivation_signs_out_and_closes_sockets(client: TestClient, world: World) -> None:
    """An admin deactivating an account ends her sessions and open rooms at once."""
    with client.websocket_connect(
        f"/ws/rooms/{world.room_id}", headers=world.bea.ws_headers()
    ) as ws:
        ws.receive_json()
        page = client.get("/admin", headers={"cookie": world.admin.cookie})
        client.post(
            f"/admin/users/{world.bea.id}/deactivate",
            data={"csrf": csrf_of(page.text)},
            headers={"cookie": world.admin.cookie},
        )
        with pytest.raises(WebSocketDisconnect) as closed:
            for _ in range(20):
                ws.receive_json()
    assert closed.value.code == 4001
    r = client.get("/groups", headers={"cookie": world.bea.cookie}, follow_redirects=False)
    assert r.status_code == 303


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC))


@pytest.fixture
def timed_client(world: World, clock: FakeClock):  # type: ignore[no-untyped-def]
    with TestClient(create_app(world.settings, clock=clock), base_url=ORIGIN) as c:
        yield c


def test_idle_session_ends_after_30_minutes(
    timed_client: TestClient, world: World, clock: FakeClock
) -> None:
    """Half an hour without activity signs her out; activity keeps her in."""
    h = {"cookie": world.amara.cookie}
    clock.advance(minutes=20)
    assert timed_client.get("/groups", headers=h).status_code == 200
    clock.advance(minutes=20)  # 20 minutes since the last activity: still in
    assert timed_client.get("/groups", headers=h).status_code == 200
    clock.advance(minutes=31)
    r = timed_client.get("/groups", headers=h, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_an_ended_session_stays_ended_when_the_limits_are_raised(
    timed_client: TestClient, world: World, clock: FakeClock
) -> None:
    """A session that timed out is revoked, not only refused: raising the idle limit later
    (an admin changing settings and restarting) does not bring it back to life."""
    h = {"cookie": world.amara.cookie}
    clock.advance(minutes=31)
    assert timed_client.get("/groups", headers=h, follow_redirects=False).status_code == 303
    longer = world.settings.model_copy(update={"session_idle_minutes": 120})
    with TestClient(create_app(longer, clock=clock), base_url=ORIGIN) as restarted:
        r = restarted.get("/groups", headers=h, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_session_ends_after_12_hours_however_active(
    timed_client: TestClient, world: World, clock: FakeClock
) -> None:
    """The absolute lifetime ends a session even with constant activity."""
    h = {"cookie": world.amara.cookie}
    for _ in range(47):  # 11 h 45 min of steady activity
        clock.advance(minutes=15)
        assert timed_client.get("/groups", headers=h, follow_redirects=False).status_code == 200
    clock.advance(minutes=16)
    assert timed_client.get("/groups", headers=h, follow_redirects=False).status_code == 303
    with pytest.raises(WebSocketDenialResponse) as refused:
        with timed_client.websocket_connect(
            f"/ws/rooms/{world.room_id}", headers=world.amara.ws_headers()
        ):
            pass
    assert refused.value.status_code == 403


def _admin_form(client: TestClient, world: World, path: str, **data: str) -> str:
    page = client.get("/admin", headers={"cookie": world.admin.cookie})
    r = client.post(
        path, data={"csrf": csrf_of(page.text), **data}, headers={"cookie": world.admin.cookie}
    )
    assert r.status_code == 200, r.text
    return r.text


def test_invite_sign_up_agreements_then_room(client: TestClient, world: World) -> None:
    """A mother opens an invite, picks a display name, accepts the agreements, enters."""
    html = _admin_form(
        client,
        world,
        f"/admin/groups/{world.group_id}/invites",
        role="member",
        valid_hours="24",
        single_use="on",
    )
    link = re.search(r"(/invite/[A-Za-z0-9_\-]+)", html).group(1)  # type: ignore[union-attr]
    page = client.get(link)
    assert "Join “Evening circle”" in page.text
    r = client.post(
        link,
        data={
            "csrf": csrf_of(page.text),
            "display_name": "Night Owl",
            "email": "owl@t.test",
            "password": "a long enough pw",
            "password2": "a long enough pw",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == f"/groups/{world.group_id}"
    group_page = client.get(r.headers["location"])
    assert "Be kind." in group_page.text
    assert "may be shared with the group&#39;s clinicians" in group_page.text
    room = client.get(f"/rooms/{world.room_id}", follow_redirects=False)
    assert room.status_code == 303  # agreements not yet accepted
    accepted = client.post(
        f"/groups/{world.group_id}/accept",
        data={"csrf": csrf_of(group_page.text)},
        follow_redirects=False,
    )
    assert accepted.headers["location"] == f"/rooms/{world.room_id}"
    assert client.get(f"/rooms/{world.room_id}").status_code == 200
    # Single use: the link is spent.
    client.cookies.clear()
    assert client.get(link).status_code == 404


def test_changed_agreements_must_be_accepted_again(client: TestClient, world: World) -> None:
    """After the admin edits the agreements, Amara cannot enter until she accepts them."""
    _admin_form(
        client,
        world,
        f"/admin/groups/{world.group_id}/agreements",
        agreements="Be kind. No screenshots.",
    )
    with pytest.raises(WebSocketDenialResponse) as refused:
        with client.websocket_connect(
            f"/ws/rooms/{world.room_id}", headers=world.amara.ws_headers()
        ):
            pass
    assert refused.value.status_code == 403
    page = client.get(f"/groups/{world.group_id}", headers={"cookie": world.amara.cookie})
    assert "The agreements have changed since you last accepted them." in page.text
    client.post(
        f"/groups/{world.group_id}/accept",
        data={"csrf": csrf_of(page.text)},
        headers={"cookie": world.amara.cookie},
    )
    with client.websocket_connect(
        f"/ws/rooms/{world.room_id}", headers=world.amara.ws_headers()
    ) as ws:
        assert ws.receive_json()["type"] == "welcome"


def test_expired_invite_is_refused(client: TestClient, world: World) -> None:
    """An unknown or expired invite shows a clear message and creates nothing."""
    r = client.get("/invite/not-a-real-token")
    assert r.status_code == 404
    assert "This invite link is not valid." in r.text


def test_markup_in_names_renders_as_text(client: TestClient, world: World) -> None:
    """A group name with HTML shows as text on the admin page, never as markup."""
    _admin_form(
        client,
        world,
        "/admin/groups",
        name="<script>alert(1)</script>",
        description="x",
        agreements="y",
    )
    page = client.get("/admin", headers={"cookie": world.admin.cookie})
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
