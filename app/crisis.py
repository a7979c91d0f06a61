"""Crisis resources shown to a member at risk, and the warm words around them.

Per organisation (org_risk_settings.crisis_resources); these are the US defaults.
"""

from __future__ import annotations

from typing import Any

DEFAULT_RESOURCES: tuple[dict[str, str], ...] = (
    {"name": "988 Suicide & Crisis Lifeline", "contact": "Call or text 988", "href": "tel:988"},
    {
        "name": "Postpartum Support International HelpLine",
        "contact": "1-800-944-4773",
        "href": "tel:18009444773",
    },
    {
        "name": "National Maternal Mental Health Hotline",
        "contact": "1-833-852-6262 (call or text, 24/7)",
        "href": "tel:18338526262",
    },
    {"name": "Emergency", "contact": "911", "href": "tel:911"},
)

HIGH_TEXT = (
    "Thank you for sharing this with us. It sounds really hard right now, and you don't have to "
    "carry it alone. Someone from the care team will reach out to you privately soon. If you "
    "want to talk to someone right now, these lines are open day and night:"
)
HELD_TEXT = (
    "Your message went to the care team instead of the group, so someone can be with you on "
    "this right away. You are not in trouble and you did nothing wrong. If you are in danger "
    "now, please call 911, or call or text 988:"
)


def resources_for(configured: list[Any]) -> list[dict[str, str]]:
    """The organisation's list if it set one, else the defaults."""
    good = [
        {"name": str(r["name"]), "contact": str(r["contact"]), "href": str(r.get("href", ""))}
        for r in configured
        if isinstance(r, dict) and r.get("name") and r.get("contact")
    ]
    return good or [dict(r) for r in DEFAULT_RESOURCES]


def care_frame(room_id: int, *, held: bool, resources: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "type": "care",
        "room": room_id,
        "held": held,
        "message": HELD_TEXT if held else HIGH_TEXT,
        "resources": resources,
    }
