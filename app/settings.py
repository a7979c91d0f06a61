"""One typed settings object. Defaults are the embedded mode: SQLite file, in-process broker."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me"
# gc.set_threshold after start-up. A full collection walks every live object: 1.3-1.8 s with
# 10,000 sockets (docs/performance.md, "GC pauses"). CPython's old-generation threshold of 10
# ran 38 of them while those sockets connected; 100 ran 8, with young passes unchanged
# (a young threshold of 10,000 ran none but made young passes ~100 ms).
GC_THRESHOLDS = (700, 10, 100)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VILLAGE_", extra="ignore")

    environment: Literal["development", "production", "test"] = Field(
        "development", description="development, test or production; production refuses defaults"
    )
    database_url: str = Field(
        "sqlite+aiosqlite:///village.db",
        description="SQLAlchemy async URL: sqlite+aiosqlite:///file.db or postgresql+asyncpg://…",
    )
    broker_url: str = Field(
        "memory://", description="Fan-out broker: memory:// (one worker) or redis://host:port/db"
    )
    secret_key: str = Field(
        DEV_SECRET_KEY,
        description="Secret for tokens and webhook signatures; required in production",
    )
    public_url: str = Field(
        "http://127.0.0.1:8000", description="Base URL people use; links in emails point here"
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Origins allowed to open WebSockets, in addition to public_url's origin",
    )
    cookie_secure: bool = Field(False, description="Mark cookies Secure (set true behind HTTPS)")
    session_idle_minutes: int = Field(30, description="Sign out after this many idle minutes")
    session_max_hours: int = Field(12, description="Sign out this many hours after login, always")
    login_attempts_per_account: int = Field(
        5, description="Failed logins allowed per account per 15 minutes"
    )
    login_attempts_per_address: int = Field(
        20, description="Failed logins allowed per client address per 15 minutes"
    )
    message_max_chars: int = Field(4000, description="Longest chat message, in characters")
    frame_max_bytes: int = Field(
        32_768, description="Largest WebSocket frame answered with an error frame (bytes)"
    )
    ws_hard_max_bytes: int = Field(
        1_048_576, description="Frames above this close the socket with 1009 (server limit)"
    )
    messages_per_window: int = Field(10, description="Messages a member may send per rate window")
    rate_window_seconds: int = Field(10, description="Length of the per-member rate window (s)")
    outbound_queue_size: int = Field(
        256, description="Frames queued for one socket before it is told to reconnect and resume"
    )
    history_page_size: int = Field(50, description="Recent messages shown when a room opens")
    handshake_db_seconds: float = Field(
        5.0,
        description="A socket waits this long for its handshake's reads, then is told to retry",
    )
    resume_max_messages: int = Field(1000, description="Most messages one history API call returns")
    ws_per_message_deflate: bool = Field(
        False, description="WebSocket compression; off: short messages, large memory cost"
    )
    redis_prefix: str = Field(
        "village",
        description="Prefix of every Redis channel and key, so deployments can share one Redis",
    )
    presence_heartbeat_seconds: float = Field(
        10.0, description="How often a worker refreshes its presence entries in Redis (s)"
    )
    gc_freeze: bool = Field(
        True, description="Freeze start-up objects out of the cyclic GC (shorter GC pauses)"
    )
    gc_thresholds: tuple[int, int, int] = Field(
        GC_THRESHOLDS,
        description="gc.set_threshold after start-up, as JSON [young, middle, old]",
    )
    workers: int = Field(1, description="uvicorn worker processes (forced to 1 with memory://)")
    log_level: str = Field("info", description="Log level: debug, info, warning, error")
    smtp_host: str = Field(
        "", description="SMTP server for escalation emails; empty: no email (dashboard only)"
    )
    smtp_port: int = Field(25, description="SMTP server port")
    smtp_username: str = Field("", description="SMTP login name (empty: no login)")
    smtp_password: str = Field("", description="SMTP password")
    smtp_starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS")
    smtp_from: str = Field("village@localhost", description="From address of escalation emails")
    webhook_url: str = Field(
        "", description="Optional URL that receives signed JSON for each escalation notification"
    )
    webhook_secret: str = Field(
        "", description="HMAC-SHA256 key for webhook signatures (empty: secret_key)"
    )
    escalation_ack_minutes: int = Field(
        5, description="Minutes to acknowledge a high/imminent escalation before the ladder climbs"
    )
    oncall_backup_emails: list[str] = Field(
        default_factory=list,
        description="On-call backup clinicians alerted at the first ladder timeout (org default)",
    )
    notify_max_attempts: int = Field(
        8, description="Attempts per notification before it is marked failed and shown to admins"
    )
    notify_backoff_seconds: float = Field(
        5.0, description="First retry delay of a failed notification; doubles each attempt"
    )
    dispatcher_poll_seconds: float = Field(
        1.0, description="How often the notification dispatcher checks the outbox and the ladder"
    )
    group_timezone: str = Field(
        "America/New_York", description="Time zone of a group until an admin sets its own (IANA)"
    )
    billing_unit_rule: Literal["cms_8_minute", "whole_units"] = Field(
        "cms_8_minute",
        description="15-min units: cms_8_minute=floor((min+7)/15), whole_units=floor(min/15)",
    )
    facilitator_ratio: int = Field(
        12, description="Members per facilitator a payer accepts; larger groups are flagged"
    )
    attended_min_percent: int = Field(
        75, description="Share of a session (%) a member must be present for to count as attended"
    )
    closed_room_crisis_text: str = Field(
        "If you are in crisis, call or text 988 (Suicide & Crisis Lifeline), or call 911. "
        "Postpartum Support International HelpLine: call or text 1-800-944-4773.",
        description="Crisis resources shown when a room is closed between sessions",
    )

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.environment == "production" and self.secret_key == DEV_SECRET_KEY:
            raise ValueError(
                "VILLAGE_SECRET_KEY must be set in production; the default key is for development"
            )
        if self.environment == "production" and len(self.secret_key) < 32:
            raise ValueError("VILLAGE_SECRET_KEY must be at least 32 characters in production")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def origins(self) -> set[str]:
        from urllib.parse import urlsplit

        base = urlsplit(self.public_url)
        found = {f"{base.scheme}://{base.netloc}"}
        found.update(o.rstrip("/") for o in self.allowed_origins)
        return found
