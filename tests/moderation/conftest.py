"""Shared fixtures for the moderation tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from moderation.rules import DEFAULT_RULES_DIR


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    """A writable copy of the package's rule files."""
    target = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, target)
    return target
