"""Fixtures for escalations: a real SMTP server (aiosmtpd), a fake clock, risk phrases."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message as EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from app.clock import FakeClock
from app.settings import Settings
from tests.conftest import make_settings

# Candidates from the moderation corpus; pick() takes the first the engine rates as asked, so
# these tests follow the engine's behaviour instead of hard-coding it.
CANDIDATES = {
    "imminent": [
        "i just took all of my sertraline and half a bottle of tylenol",
        "i have the pills counted out on the counter. i cant keep doing this",
        "took a whole bunch of my sleeping pills about 20 min ago, i'm sorry everyone",
        "this is my last message here. thank you for being kind to me. "
        "please tell my daughter i loved her",
    ],
    "high": [
        "i keep thinking about killing myself. its all the time now",
        "i want to die. every single day since she was born",
        "honestly been having suicidal thoughts again this week",
    ],
    "moderate": [
        "sometimes i wish i could go to sleep and just not wake up",
        "they'd all be better off without me honestly",
        "i wish i could disappear for good",
        # Passive wishes and vanishing "for good" became high with scale decisions 1 and 4
        # (docs/moderation.md); these stay clinician review.
        "i keep getting scary thoughts of dropping her down the stairs and it terrifies me",
        "ive been having the urge to cut again but i havent done it",
    ],
    "low": [
        "i cry every single day and i dont even know why",
        "i feel completely hopeless like this will never get better",
        "i havent slept more than 2 hours in like 4 days",
    ],
    "none": [
        "i'd kill for a full night of sleep rn",
        "we finally got a good nap today, she slept two hours",
    ],
}


def pick(severity: str) -> str:
    from moderation import assess

    for text in CANDIDATES[severity]:
        got = str(getattr(assess(text).severity, "value", assess(text).severity))
        if got == severity:
            return text
    raise AssertionError(f"the engine rates none of the {severity!r} candidates as {severity!r}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Inbox:
    """What the test's SMTP server received."""

    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            msg = message_from_bytes(envelope.content)
            msg["X-Rcpt"] = ",".join(envelope.rcpt_tos)
            self.messages.append(msg)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if address in m["X-Rcpt"]]

    def subjects(self) -> list[str]:
        with self.lock:
            return [str(m["Subject"]) for m in self.messages]


class SmtpServer:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.inbox = Inbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def esc_settings(base: Settings, smtp_port: int, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_port,
        "notify_backoff_seconds": 10.0,
        "notify_max_attempts": 3,
        # Tests drive the dispatcher with tick(); a long poll keeps the background one quiet.
        "dispatcher_poll_seconds": 3600.0,
        "oncall_backup_emails": ["oncall@t.test"],
    }
    values.update(overrides)
    return make_settings(base.database_url, **values)
