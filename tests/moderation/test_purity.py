"""moderation/ is a pure library: it never imports the chat server or does I/O on assess."""

from __future__ import annotations

import ast
from pathlib import Path

import moderation

PACKAGE = Path(moderation.__file__).parent
# Modules that would mean network, processes or the chat server.
FORBIDDEN = {"app", "socket", "subprocess", "requests", "httpx", "sqlite3", "asyncio"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_package_never_imports_app() -> None:
    """No module imports app (or any I/O library)."""
    for path in PACKAGE.rglob("*.py"):
        assert not _imports(path) & FORBIDDEN, path.name
        source = path.read_text(encoding="utf-8")
        assert "import app" not in source and "from app" not in source, path.name


def test_package_uses_only_the_standard_library() -> None:
    """No third-party dependency."""
    import sys

    allowed = set(sys.stdlib_module_names) | {"moderation", "__future__"}
    for path in PACKAGE.rglob("*.py"):
        assert _imports(path) <= allowed, (path.name, _imports(path) - allowed)
