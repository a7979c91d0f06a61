"""The room page offers facilitator tools to facilitators only."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.conftest import World


def test_facilitator_tools_appear_for_facilitators_only(client: TestClient, world: World) -> None:
    """Rosa's room page has the tools panel and her CSRF token; Amara's has neither panel."""
    url = f"/rooms/{world.room_id}"
    rosa = client.get(url, headers={"cookie": world.facilitator.cookie})
    assert rosa.status_code == 200
    assert 'id="facilitator-panel"' in rosa.text and "/static/facilitation.js" in rosa.text
    assert 'data-csrf="' in rosa.text
    amara = client.get(url, headers={"cookie": world.amara.cookie})
    assert 'id="facilitator-panel"' not in amara.text
    assert "/static/facilitation.js" in amara.text  # members report messages from here
    admin = client.get("/admin", headers={"cookie": world.admin.cookie})
    assert 'href="/admin/audit"' in admin.text
