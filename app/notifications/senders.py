"""The two outside channels. Each send either returns or raises; the dispatcher retries.

Neither carries message text: a link to the escalation and its severity only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import httpx

from app.settings import Settings
from app.storage.tables import Notification

SMTP_TIMEOUT_SECS = 10
WEBHOOK_TIMEOUT_SECS = 10
SIGNATURE_HEADER = "X-Village-Signature"
TIMESTAMP_HEADER = "X-Village-Timestamp"

SUBJECTS = {
    "opened": "Village: a {label} escalation needs a clinician",
    "reminder": "Village: REMINDER, a {label} escalation is still not acknowledged",
    "backup": "Village: on-call backup needed, a {label} escalation is not acknowledged",
    "admin": "Village: ADMIN ALERT, a {label} escalation is still not acknowledged",
}


def link(settings: Settings, n: Notification) -> str:
    return f"{settings.public_url.rstrip('/')}/escalations/{n.escalation_id}"


def _label(n: Notification) -> str:
    return "EMERGENCY (imminent)" if n.severity == "imminent" else n.severity


def email_message(settings: Settings, n: Notification) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.smtp_from
    msg["To"] = n.recipient
    msg["Subject"] = SUBJECTS.get(n.reason, SUBJECTS["opened"]).format(label=_label(n))
    msg.set_content(
        f"Severity: {n.severity}\n\n"
        f"Please open the escalation and acknowledge it:\n{link(settings, n)}\n\n"
        "For the member's privacy this email does not contain what she wrote.\n"
    )
    return msg


async def send_email(settings: Settings, n: Notification) -> None:
    await aiosmtplib.send(
        email_message(settings, n),
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username or None,
        password=settings.smtp_password or None,
        start_tls=settings.smtp_starttls,
        timeout=SMTP_TIMEOUT_SECS,
    )


def webhook_body(settings: Settings, n: Notification) -> dict[str, Any]:
    return {
        "event": f"escalation.{n.reason}",
        "escalation_id": n.escalation_id,
        "severity": n.severity,
        "url": link(settings, n),
        "notification_id": n.id,
    }


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """sha256=<hex HMAC of "<timestamp>.<body>">: the receiver recomputes and compares."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


async def send_webhook(settings: Settings, n: Notification) -> None:
    body = json.dumps(webhook_body(settings, n), separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    secret = settings.webhook_secret or settings.secret_key
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }
    async with httpx.AsyncClient(timeout=WEBHOOK_TIMEOUT_SECS) as client:
        response = await client.post(n.recipient, content=body, headers=headers)
    if response.status_code >= 300:
        raise RuntimeError(f"webhook answered HTTP {response.status_code}")


async def send(settings: Settings, n: Notification) -> None:
    if n.channel == "email":
        await send_email(settings, n)
    elif n.channel == "webhook":
        await send_webhook(settings, n)
    else:
        raise ValueError(f"unknown channel {n.channel!r}")
