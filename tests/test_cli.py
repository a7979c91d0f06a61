"""The command line: migrate, demo, create-admin, and serve's single-worker rule."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.live import ROOT, free_port, wait_ready


def _run(db: Path, *args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VILLAGE_DATABASE_URL": f"sqlite+aiosqlite:///{db}"}
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        **kw,
    )  # type: ignore[call-overload]


def test_migrate_then_demo_prints_logins_and_is_idempotent(tmp_path: Path) -> None:
    """`migrate` then `demo` (twice) prints the six demo logins and creates nothing twice."""
    db = tmp_path / "v.db"
    assert _run(db, "migrate").returncode == 0
    first = _run(db, "demo")
    second = _run(db, "demo")
    assert first.returncode == second.returncode == 0
    for email in (
        "admin@village.test",
        "facilitator@village.test",
        "clinician@village.test",
        "amara@village.test",
        "bea@village.test",
        "chloe@village.test",
    ):
        assert email in first.stdout
    assert first.stdout == second.stdout


def test_create_admin_refuses_a_short_password(tmp_path: Path) -> None:
    """create-admin makes an admin, and explains what is wrong with a weak password."""
    db = tmp_path / "v.db"
    _run(db, "migrate")
    ok = _run(db, "create-admin", "--email", "boss@x.org", "--password", "long enough pass")
    assert ok.returncode == 0 and "admin boss@x.org created" in ok.stdout
    weak = _run(db, "create-admin", "--email", "b2@x.org", "--password", "short")
    assert weak.returncode == 2
    assert "Choose a password of at least 10 characters." in weak.stderr


def test_serve_forces_one_worker_with_the_in_process_broker(tmp_path: Path) -> None:
    """Asking for 2 workers with memory:// runs 1 and says why in the log."""
    db = tmp_path / "v.db"
    _run(db, "migrate")
    port = free_port()
    env = {**os.environ, "VILLAGE_DATABASE_URL": f"sqlite+aiosqlite:///{db}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", str(port), "--workers", "2"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}", proc)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert "running 1 worker instead of 2" in err
