"""Accounts and sign-in: server-side sessions that logout and deactivation revoke."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.errors import InvalidInput, NotAuthenticated, NotFound, RateLimited
from app.passwords import MIN_PASSWORD_CHARS, hash_password, verify_password
from app.realtime import closecodes
from app.services import Services
from app.settings import Settings
from app.storage import accounts as store
from app.storage import audit
from app.storage.tables import LoginSession, User

SESSION_TOUCH_SECS = 60  # write last_seen at most this often per session
LOGIN_FAILED = "That email and password do not match an account."


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidInput(f"Choose a password of at least {MIN_PASSWORD_CHARS} characters.")


def check_display_name(name: str) -> str:
    name = " ".join(name.split())
    if not 2 <= len(name) <= 40:
        raise InvalidInput("Choose a display name of 2 to 40 characters.")
    return name


@dataclass(frozen=True)
class SignedIn:
    user: User
    session: LoginSession


async def create_user(
    svc: Services,
    *,
    org_id: int,
    email: str,
    display_name: str,
    password: str,
    is_admin: bool = False,
    credential: str = "",
    actor_id: int | None = None,
) -> User:
    email = normalise_email(email)
    if "@" not in email:
        raise InvalidInput("Enter a valid email address.")
    display_name = check_display_name(display_name)
    check_password_rules(password)
    now = svc.clock.now()
    async with svc.db.transaction() as s:
        if await store.user_by_email(s, email) is not None:
            raise InvalidInput("That email cannot be used. Sign in instead, or use another.")
        user = User(
            org_id=org_id,
            email=email,
            display_name=display_name,
            password_hash=hash_password(password),
            is_admin=is_admin,
            credential=credential,
            created_at=now,
        )
        await store.add(s, user)
        await audit.record(
            s,
            at=now,
            actor_id=actor_id,
            action="user.create",
            target_type="user",
            target_id=user.id,
            detail={"admin": is_admin},
        )
    return user


async def login(svc: Services, email: str, password: str, address: str) -> tuple[str, SignedIn]:
    """Returns the cookie token. The same error for unknown email and wrong password."""
    email = normalise_email(email)
    if not await svc.limits.login_allowed(email, address):
        raise RateLimited("Too many sign-in attempts. Please wait 15 minutes and try again.")
    async with svc.db.transaction() as s:
        user = await store.user_by_email(s, email)
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        await svc.limits.login_failed(email, address)
        raise InvalidInput(LOGIN_FAILED, code="login_failed")
    token = secrets.token_urlsafe(32)
    now = svc.clock.now()
    session = LoginSession(
        token_hash=token_hash(token),
        user_id=user.id,  # type: ignore[arg-type]
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
    )
    async with svc.db.transaction() as s:
        await store.add(s, session)
        await audit.record(
            s,
            at=now,
            actor_id=user.id,
            action="session.login",
            target_type="user",
            target_id=user.id,
        )
    return token, SignedIn(user, session)


def session_ended(
    cfg: Settings, created_at: datetime, last_seen_at: datetime, now: datetime
) -> bool:
    """Past its lifetime or idle too long: revoked at the next use, never used again."""
    return now - created_at > timedelta(hours=cfg.session_max_hours) or (
        now - last_seen_at > timedelta(minutes=cfg.session_idle_minutes)
    )


def touch_due(last_seen_at: datetime, now: datetime) -> bool:
    return (now - last_seen_at).total_seconds() > SESSION_TOUCH_SECS


async def resolve(svc: Services, token: str | None, *, touch: bool = True) -> SignedIn:
    """The signed-in user for a cookie token, or NotAuthenticated (expired, revoked, unknown)."""
    if not token:
        raise NotAuthenticated()
    now = svc.clock.now()
    cfg = svc.settings
    async with svc.db.transaction() as s:
        session = await store.session_by_token_hash(s, token_hash(token))
        if session is None or session.revoked_at is not None:
            raise NotAuthenticated()
        ended = session_ended(cfg, session.created_at, session.last_seen_at, now)
        if ended:
            # Revoke, then refuse after the commit: raising in here would roll the revocation
            # back, and a later, longer limit would bring the session back to life.
            await store.revoke_session(s, session.id, now)  # type: ignore[arg-type]
        else:
            user = await store.user_by_id(s, session.user_id)
            if user is None or not user.is_active:
                raise NotAuthenticated()
            if touch and touch_due(session.last_seen_at, now):
                await store.touch_session(s, session.id, now)  # type: ignore[arg-type]
                session.last_seen_at = now
    if ended:
        raise NotAuthenticated("Your session has ended. Please sign in again.")
    return SignedIn(user, session)


def session_expires_at(svc: Services, session: LoginSession | datetime) -> float:
    """Seconds from now until the session's absolute lifetime ends (a session or its
    created_at)."""
    created_at = session if isinstance(session, datetime) else session.created_at
    end = created_at + timedelta(hours=svc.settings.session_max_hours)
    return max(0.0, (end - svc.clock.now()).total_seconds())


async def logout(svc: Services, signed_in: SignedIn) -> None:
    now = svc.clock.now()
    async with svc.db.transaction() as s:
        await store.revoke_session(s, signed_in.session.id, now)  # type: ignore[arg-type]
        await audit.record(
            s,
            at=now,
            actor_id=signed_in.user.id,
            action="session.logout",
            target_type="user",
            target_id=signed_in.user.id,
        )
    await svc.hub.close_user(signed_in.user.id, closecodes.SIGNED_OUT, "signed out")  # type: ignore[arg-type]


async def set_active(svc: Services, actor: User, user_id: int, active: bool) -> User:
    now = svc.clock.now()
    async with svc.db.transaction() as s:
        user = await store.user_by_id(s, user_id)
        if user is None or user.org_id != actor.org_id:
            raise NotFound()
        user.is_active = active
        s.add(user)
        if not active:
            await store.revoke_user_sessions(s, user_id, now)
        await audit.record(
            s,
            at=now,
            actor_id=actor.id,
            action="user.activate" if active else "user.deactivate",
            target_type="user",
            target_id=user_id,
        )
    if not active:
        await svc.hub.close_user(user_id, closecodes.SIGNED_OUT, "account deactivated")
    return user
