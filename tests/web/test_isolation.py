"""Nobody reads or enters what is not theirs: every room route, HTTP and WebSocket."""

from __future__ import annotations

import pytest
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient, WebSocketDenialResponse

from app.factory import create_app
from tests.conftest import ORIGIN, World, make_settings

# Every route whose path names a room, and how to call it. A new room route without an entry
# here fails test_every_room_route_is_covered.
HTTP_ROOM_ROUTES = {
    "/rooms/{room_id:int}": "GET",
    "/api/rooms/{room_id:int}/messages": "GET",
    # Facilitation (docs/facilitation.md)
    "/api/rooms/{room_id:int}/messages/{seq:int}/hide": "POST",
    "/api/rooms/{room_id:int}/messages/{seq:int}/unhide": "POST",
    "/api/rooms/{room_id:int}/messages/{seq:int}/report": "POST",
    "/api/rooms/{room_id:int}/members/{user_id:int}/mute": "POST",
    "/api/rooms/{room_id:int}/members/{user_id:int}/unmute": "POST",
    "/api/rooms/{room_id:int}/members/{user_id:int}/remove": "POST",
    "/api/rooms/{room_id:int}/lock": "POST",
    "/api/rooms/{room_id:int}/slow-mode": "POST",
    "/api/rooms/{room_id:int}/moderation": "GET",
    "/api/rooms/{room_id:int}/flags": "GET",
    "/api/rooms/{room_id:int}/flags/{flag_id:int}/resolve": "POST",
    # Group sessions (docs/attendance.md): the room's session panel
    "/api/rooms/{room_id:int}/session": "GET",
}
# Actions an organisation admin may take without membership (they answer with no room
# content; tests/facilitation covers them). Every read of the room still refuses the admin.
ADMIN_ACTS = {
    path
    for path, method in HTTP_ROOM_ROUTES.items()
    if method == "POST" and not path.endswith("/report")
}
WS_ROOM_ROUTES = {"/ws/rooms/{room_id:int}"}
INTRUDERS = ["outsider", "removed", "logged_out", "admin"]


def _cookie(world: World, who: str) -> dict[str, str]:
    if who == "logged_out":
        return {}
    return {"cookie": world.people[who].cookie}


def test_every_room_route_is_covered(sqlite_url: str) -> None:
    """Each route with a room id in its path has an isolation case below."""
    app = create_app(make_settings(sqlite_url))
    http = {r.path for r in app.routes if isinstance(r, Route) and "{room_id" in r.path}
    ws = {r.path for r in app.routes if isinstance(r, WebSocketRoute) and "{room_id" in r.path}
    assert http == set(HTTP_ROOM_ROUTES)
    assert ws == WS_ROOM_ROUTES


@pytest.mark.parametrize("path", sorted(HTTP_ROOM_ROUTES))
@pytest.mark.parametrize("who", INTRUDERS)
def test_room_http_routes_refuse_intruders(
    client: TestClient, world: World, path: str, who: str
) -> None:
    """Outsiders, removed members, the logged out and non-member admins get no room content."""
    url = (
        path.replace("{room_id:int}", str(world.room_id))
        .replace("{seq:int}", "1")
        .replace("{user_id:int}", str(world.amara.id))
        .replace("{flag_id:int}", "1")
    )
    # A message exists, so a leak would show it.
    r0 = client.get(f"/api/rooms/{world.room_id}/messages", headers={"cookie": world.amara.cookie})
    assert r0.status_code == 200
    r = client.request(
        HTTP_ROOM_ROUTES[path], url, headers=_cookie(world, who), follow_redirects=False
    )
    if who == "logged_out":
        assert r.status_code in (303, 401)
        assert "Evening circle" not in r.text
    elif who == "admin" and path in ADMIN_ACTS:
        # An admin may act (tests/facilitation), but not cross-site, and sees no content.
        assert r.status_code == 403 and r.json()["error"] == "csrf"
        assert "Evening circle" not in r.text
    else:
        assert r.status_code == 404
        assert "Evening circle" not in r.text


@pytest.mark.parametrize("who", INTRUDERS)
def test_room_socket_refuses_intruders_before_accept(
    client: TestClient, world: World, who: str
) -> None:
    """The handshake is refused (403 signed out, 404 not yours) and nothing of the room is sent."""
    headers = {"origin": ORIGIN, **_cookie(world, who)}
    with pytest.raises(WebSocketDenialResponse) as refused:
        with client.websocket_connect(f"/ws/rooms/{world.room_id}", headers=headers):
            pass
    assert refused.value.status_code == (403 if who == "logged_out" else 404)
    assert refused.value.content == b""


def test_unknown_room_looks_the_same_as_someone_elses(client: TestClient, world: World) -> None:
    """A room that does not exist and a room that is not yours answer identically."""
    h = {"cookie": world.amara.cookie}
    theirs = client.get(f"/api/rooms/{world.other_room_id}/messages", headers=h)
    missing = client.get("/api/rooms/999999/messages", headers=h)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json() == {"error": "not_found", "message": "Not found."}


def test_cross_origin_handshake_is_refused(client: TestClient, world: World) -> None:
    """A page on another site cannot open a socket with a member's cookie (CSWSH)."""
    for headers in (
        world.amara.ws_headers(origin="https://evil.example"),
        {"cookie": world.amara.cookie},  # no Origin at all
    ):
        with pytest.raises(WebSocketDenialResponse) as refused:
            with client.websocket_connect(f"/ws/rooms/{world.room_id}", headers=headers):
                pass
        assert refused.value.status_code == 403


def test_member_of_another_group_cannot_see_its_room_page(client: TestClient, world: World) -> None:
    """Olive (other group) gets the same 404 page for the evening circle's room."""
    r = client.get(f"/rooms/{world.room_id}", headers={"cookie": world.outsider.cookie})
    assert r.status_code == 404
    assert "Not found." in r.text
