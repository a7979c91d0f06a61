"""The dispatcher: a supervised task that drives the outbox and the escalation ladder from the
database, with the injected clock. A restart loses nothing: every deadline and every pending
notification is a row. Tests call tick() directly with a FakeClock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from app.escalations import ack_timeout, publish_staff
from app.notifications import outbox, senders
from app.services import Services
from app.settings import Settings
from app.storage import accounts as account_store
from app.storage import audit
from app.storage import escalations as store
from app.storage.tables import Escalation, Notification

log = logging.getLogger("village.notify")

BATCH = 50
LEASE_SECS = 60  # a send that takes longer than this may be repeated by another worker
MAX_BACKOFF_SECS = 600.0
CRASH_BACKOFF_SECS = (1.0, 2.0, 5.0, 10.0, 30.0)

Sender = Callable[[Settings, Notification], Awaitable[None]]


class Dispatcher:
    def __init__(self, svc: Services, send: Sender = senders.send) -> None:
        self.svc = svc
        self.send = send
        self.task: asyncio.Task[None] | None = None
        self.wake = asyncio.Event()
        self.healthy = True

    async def start(self) -> None:
        self.task = asyncio.create_task(self._run(), name="notification-dispatcher")

    async def aclose(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task

    async def _run(self) -> None:
        crashes = 0
        while True:
            try:
                await self.tick()
                self.healthy, crashes = True, 0
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self.wake.wait(), timeout=self.svc.settings.dispatcher_poll_seconds
                    )
                self.wake.clear()
            except asyncio.CancelledError:
                raise
            except Exception:
                # The database may be down: keep trying, the rows wait for us.
                self.healthy = False
                log.exception("dispatcher tick failed; retrying")
                await asyncio.sleep(CRASH_BACKOFF_SECS[min(crashes, len(CRASH_BACKOFF_SECS) - 1)])
                crashes += 1

    async def tick(self) -> int:
        """Climb every overdue ladder, then send every due notification. Returns sends tried."""
        await self.run_ladder()
        return await self.deliver_due()

    # --- the ladder ---------------------------------------------------------------------------

    async def run_ladder(self) -> None:
        now = self.svc.clock.now()
        async with self.svc.db.reading() as s:  # no write lock: every tick, mostly finds nothing
            due = await store.due_ladder(s, now)
        for esc in due:
            await self._climb(esc)

    async def _climb(self, esc: Escalation) -> None:
        svc = self.svc
        now = svc.clock.now()
        async with svc.db.transaction() as s:
            org = await store.org_settings(s, esc.org_id)
            step = esc.ladder_step + 1
            # After the first timeout one more timeout is allowed; after the second, it stops.
            assert esc.next_deadline_at is not None
            next_deadline = (
                esc.next_deadline_at + ack_timeout(svc, org.ack_timeout_minutes)
                if step == 1
                else None
            )
            if not await store.climb(s, esc, next_deadline):
                return  # another worker climbed it, or it was acknowledged meanwhile
            if step == 1:
                clinicians = await outbox.staff_emails(s, esc.group_id, ("clinician",))
                await outbox.enqueue(svc, s, esc, "reminder", clinicians)
                backups = list(org.backup_emails) or list(svc.settings.oncall_backup_emails)
                # A backup who is also the group's clinician already has a reminder.
                backups = [b for b in backups if b.strip().lower() not in clinicians]
                if backups:
                    await outbox.enqueue(svc, s, esc, "backup", backups, webhook=False)
            else:
                admins = [
                    u.email
                    for u in await account_store.users_of_org(s, esc.org_id)
                    if u.is_admin and u.is_active
                ]
                await outbox.enqueue(svc, s, esc, "admin", admins)
            await audit.record(
                s,
                at=now,
                actor_id=None,
                action="escalation.ladder",
                target_type="escalation",
                target_id=esc.id,
                group_id=esc.group_id,
                detail={"step": step, "to": "clinicians+backup" if step == 1 else "admins"},
            )
        await publish_staff(
            svc, esc.group_id, {"type": "ladder", "id": esc.id, "group": esc.group_id, "step": step}
        )

    # --- the outbox ---------------------------------------------------------------------------

    async def deliver_due(self) -> int:
        svc = self.svc
        now = svc.clock.now()
        claimed: list[Notification] = []
        async with svc.db.reading() as s:  # no write lock unless something is due
            due = await store.due_notifications(s, now, BATCH)
        if not due:
            return 0
        async with svc.db.transaction() as s:
            for n in due:
                # Claims only a row still pending at the time read (another worker may have
                # claimed or sent it since).
                if await store.claim_notification(s, n, now, now + timedelta(seconds=LEASE_SECS)):
                    claimed.append(n)
        for n in claimed:
            await self._deliver(n)
        return len(claimed)

    async def _deliver(self, n: Notification) -> None:
        svc = self.svc
        error = ""
        try:
            await self.send(svc.settings, n)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        now = svc.clock.now()
        async with svc.db.transaction() as s:
            row = await store.notification(s, n.id)  # type: ignore[arg-type]
            if row is None or row.status != "pending":
                return
            row.attempts += 1
            if not error:
                row.status, row.sent_at, row.last_error = "sent", now, ""
                action = "notification.sent"
            elif row.attempts >= svc.settings.notify_max_attempts:
                row.status, row.last_error = "failed", error
                action = "notification.failed"
                log.error("notification %s gave up after %s attempts", row.id, row.attempts)
            else:
                delay = min(
                    MAX_BACKOFF_SECS, svc.settings.notify_backoff_seconds * 2 ** (row.attempts - 1)
                )
                row.next_attempt_at, row.last_error = now + timedelta(seconds=delay), error
                action = "notification.retry"
                log.warning("notification %s failed (%s); retry in %.0f s", row.id, error, delay)
            s.add(row)
            esc = await store.escalation(s, row.escalation_id)
            await audit.record(
                s,
                at=now,
                actor_id=None,
                action=action,
                target_type="notification",
                target_id=row.id,
                group_id=esc.group_id if esc else None,
                detail={
                    "escalation_id": row.escalation_id,
                    "channel": row.channel,
                    "reason": row.reason,
                    "attempts": row.attempts,
                    **({"error": error} if error else {}),
                },
            )
