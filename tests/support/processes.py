"""Real processes for multi-worker and fault tests: redis-server and uvicorn workers.

Every process a test starts is stopped by the test (context managers), killed by pid.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

ROOT = Path(__file__).resolve().parents[2]
SHARED_REDIS = os.environ.get("VILLAGE_TEST_REDIS", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on port {port} after {timeout} s")


REDIS_ARGS = ["redis-server", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]


class RedisServer:
    """A redis-server of our own on a free port, which a test may stop and start again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [*REDIS_ARGS, "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


class Worker:
    """One `python -m app serve` process on a free port."""

    def __init__(self, env: dict[str, str], port: int | None = None) -> None:
        self.port = port or free_port()
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def ws_base(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def http_base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait: bool = True) -> None:
        env = {**os.environ, **self.env}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--port", str(self.port), "--workers", "1"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            # VILLAGE_TEST_WORKER_LOG=dir keeps each worker's log there, for debugging.
            stderr=self._log(),
        )
        if wait:
            self.wait_ready()

    def _log(self) -> int | TextIO:
        folder = os.environ.get("VILLAGE_TEST_WORKER_LOG")
        if not folder:
            return subprocess.DEVNULL
        return open(Path(folder) / f"worker-{self.port}.log", "w")

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"worker on port {self.port} exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(self.http_base + "/readyz", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"worker on port {self.port} not ready after {timeout} s")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def worker_env(db_url: str, broker_url: str, prefix: str, origin: str) -> dict[str, str]:
    return {
        "VILLAGE_ENVIRONMENT": "test",
        "VILLAGE_DATABASE_URL": db_url,
        "VILLAGE_BROKER_URL": broker_url,
        "VILLAGE_REDIS_PREFIX": prefix,
        "VILLAGE_PUBLIC_URL": origin,
        "VILLAGE_LOG_LEVEL": "info" if os.environ.get("VILLAGE_TEST_WORKER_LOG") else "warning",
        "VILLAGE_PRESENCE_HEARTBEAT_SECONDS": "1",
        # Fault tests send fast on purpose; the limit itself is tested elsewhere.
        "VILLAGE_MESSAGES_PER_WINDOW": "100000",
    }


def start_gunicorn(port: int, env: dict[str, str], workers: int) -> subprocess.Popen[bytes]:
    """gunicorn with Village's worker class, forking workers from a preloaded master."""
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "-k", "app.gunicorn_worker.VillageWorker"),
            *("-w", str(workers), "--preload", "-b", f"127.0.0.1:{port}"),
            "app.factory:create_app()",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
