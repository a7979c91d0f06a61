"""Time from a risk message's commit to the clinician being notified, in process.

    .venv/bin/python bench/escalation_latency.py [--messages 200]

Builds a throwaway SQLite database, starts a real SMTP server (aiosmtpd) on a free port, runs
the real dispatcher, and sends high-risk messages through messages.send_message. For each it
measures from the call (which commits the message and its escalation) to
  - the live staff-channel frame reaching a dashboard subscriber, and
  - the SMTP server receiving the email to the group's clinician.
The start point is taken just before the call, so the figures include the commit itself.
Then prints `python -m app report` for the same database.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from app import accounts, escalations, groups, messages, report
from app.access import enter_room
from app.migrate import upgrade
from app.notifications.dispatcher import Dispatcher
from app.services import offline_services
from app.settings import Settings

HIGH = "i keep thinking about killing myself. its all the time now"


class Inbox:
    def __init__(self) -> None:
        self.received: dict[int, float] = {}
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        now = time.perf_counter()
        found = re.search(rb"/escalations/(\d+)", envelope.content)
        if found and b"clinician@" in b",".join(e.encode() for e in envelope.rcpt_tos):
            with self.lock:
                self.received.setdefault(int(found.group(1)), now)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))]


async def run(n: int, url: str) -> None:
    inbox = Inbox()
    port = free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    settings = Settings(
        environment="test",
        database_url=url,
        smtp_host="127.0.0.1",
        smtp_port=port,
        dispatcher_poll_seconds=1.0,
    )
    svc = offline_services(settings)
    dispatcher = Dispatcher(svc)
    svc.outbox_written = dispatcher.wake.set
    try:
        org = await groups.ensure_org(svc, "Bench")
        admin = await accounts.create_user(
            svc, org_id=org.id, email="admin@b.test", display_name="Admin",
            password="bench-password-1", is_admin=True,
        )  # fmt: skip
        group = await groups.create_group(
            svc, admin, name="Bench group", description="", agreements=""
        )
        users = {}
        for key, role in (("clinician", "clinician"), ("member", "member")):
            users[key] = await accounts.create_user(
                svc, org_id=org.id, email=f"{key}@b.test", display_name=key,
                password="bench-password-1",
            )  # fmt: skip
            await groups.assign(svc, admin, group.id, users[key].email, role)  # type: ignore[arg-type]
            await groups.accept_agreements(svc, users[key], group.id)  # type: ignore[arg-type]
        room_id = (await groups.my_group(svc, users["member"], group.id)).room_id  # type: ignore[arg-type]
        access = (await enter_room(svc, users["member"], room_id)).seat

        live: dict[int, float] = {}
        started: dict[int, float] = {}
        import json

        async def listen(ready: asyncio.Event) -> None:
            async with svc.broker.subscribe(escalations.staff_channel(group.id)) as sub:  # type: ignore[arg-type]
                ready.set()
                async for data in sub:
                    frame = json.loads(data)
                    if frame.get("type") == "escalation":
                        live.setdefault(frame["id"], time.perf_counter())

        await svc.broker.start()
        ready = asyncio.Event()
        listener = asyncio.create_task(listen(ready))
        await ready.wait()
        await dispatcher.start()
        for i in range(n):
            t0 = time.perf_counter()
            sent = await messages.send_message(svc, access, f"b{i}", HIGH)
            async with svc.db.transaction() as s:
                from app.storage import escalations as store

                esc = await store.escalation_for_message(s, sent.message.id)  # type: ignore[arg-type]
            started[esc.id] = t0  # type: ignore[index, union-attr]
            await asyncio.sleep(0.02)  # a busy group, not a flood
        deadline = time.perf_counter() + 30
        # The SMTP handler runs in aiosmtpd's own thread: poll what it has recorded.
        while len(inbox.received) < n and time.perf_counter() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        listener.cancel()
        email_ms = [
            (inbox.received[k] - t) * 1000 for k, t in started.items() if k in inbox.received
        ]
        live_ms = [(live[k] - t) * 1000 for k, t in started.items() if k in live]
        print(f"{n} high-risk messages, SQLite, in-process broker, aiosmtpd on 127.0.0.1")
        print(
            f"commit -> live dashboard frame: p50 {pct(live_ms, 50):.1f} ms, "
            f"p99 {pct(live_ms, 99):.1f} ms (n={len(live_ms)})"
        )
        print(
            f"commit -> email received by SMTP server: p50 {pct(email_ms, 50):.1f} ms, "
            f"p99 {pct(email_ms, 99):.1f} ms (n={len(email_ms)})"
        )
        print()
        print(report.render(await report.build(svc)))
    finally:
        await dispatcher.aclose()
        await svc.broker.aclose()
        await svc.db.aclose()
        smtp.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=200)
    url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    upgrade(url)  # Alembic runs its own event loop: before ours starts
    asyncio.run(run(parser.parse_args().messages, url))


if __name__ == "__main__":
    main()
