"""Every HTTP response carries the browser security headers (app.factory.SecurityHeaders)."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from app.factory import SECURITY_HEADERS
from tests.conftest import World


@pytest.mark.parametrize("path", ["/login", "/groups", "/no-such-page"])
def test_pages_redirects_and_errors_carry_the_security_headers(
    client: TestClient, world: World, path: str
) -> None:
    """A page, a sign-in redirect and a 404 all forbid framing and sniffing."""
    r = client.get(path, follow_redirects=False)
    for key, value in SECURITY_HEADERS.items():
        assert r.headers[key] == value, (path, key)
    assert len(r.headers.get_list("content-security-policy")) == 1
