"""Every setting is documented in the README's configuration table."""

from __future__ import annotations

from pathlib import Path

from app.settings import Settings

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_setting_is_in_the_readme_configuration_table() -> None:
    """An operator can find every VILLAGE_ variable the server reads."""
    text = README.read_text()
    missing = [n for n in Settings.model_fields if f"`VILLAGE_{n.upper()}`" not in text]
    assert missing == []
