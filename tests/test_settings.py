"""Settings: documented, typed, and safe in production."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from app.settings import DEV_SECRET_KEY, Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented_in_the_readme(name: str) -> None:
    """Each setting appears in README's configuration table and has a description."""
    assert f"`VILLAGE_{name.upper()}`" in README
    assert Settings.model_fields[name].description


def test_default_secret_is_refused_in_production() -> None:
    """Production will not start with the development secret key."""
    with pytest.raises(ValidationError, match="VILLAGE_SECRET_KEY must be set in production"):
        Settings(environment="production", secret_key=DEV_SECRET_KEY)


def test_production_accepts_a_real_secret() -> None:
    """A long random secret is accepted."""
    s = Settings(environment="production", secret_key="x" * 40)
    assert s.environment == "production"


def test_settings_come_from_village_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """VILLAGE_ variables configure the server."""
    monkeypatch.setenv("VILLAGE_MESSAGE_MAX_CHARS", "500")
    monkeypatch.setenv("VILLAGE_ALLOWED_ORIGINS", '["https://app.example.org"]')
    s = Settings()
    assert s.message_max_chars == 500
    assert "https://app.example.org" in s.origins
