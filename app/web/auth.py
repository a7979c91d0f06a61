"""Session cookie and CSRF for the HTTP side.

CSRF: forms carry a token. Signed-in forms use the token stored with the server-side session
(synchronizer pattern); sign-in and sign-up forms use a double-submit cookie. starlette-csrf
was considered but only reads a header, and our forms work without JavaScript.
"""

from __future__ import annotations

import secrets

from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from app import accounts
from app.accounts import SignedIn
from app.errors import Forbidden, NotAuthenticated
from app.services import Services

SESSION_COOKIE = "village_session"
ANON_CSRF_COOKIE = "village_csrf"
CSRF_FIELD = "csrf"


def services(conn: HTTPConnection) -> Services:
    return conn.app.state.services  # type: ignore[no-any-return]


async def signed_in(conn: HTTPConnection) -> SignedIn:
    cached = getattr(conn.state, "signed_in", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    who = await accounts.resolve(services(conn), conn.cookies.get(SESSION_COOKIE))
    conn.state.signed_in = who
    return who


async def maybe_signed_in(conn: HTTPConnection) -> SignedIn | None:
    try:
        return await signed_in(conn)
    except NotAuthenticated:
        return None


def set_session_cookie(response: Response, svc: Services, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=svc.settings.session_max_hours * 3600,
        httponly=True,
        secure=svc.settings.cookie_secure,
        samesite="lax",
        path="/",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def anon_csrf_token(request: Request) -> str:
    token = request.cookies.get(ANON_CSRF_COOKIE)
    if not token:
        token = request.state.new_anon_csrf = secrets.token_urlsafe(24)
    return token


def set_anon_csrf_cookie(request: Request, response: Response, svc: Services) -> None:
    token = getattr(request.state, "new_anon_csrf", None)
    if token:
        response.set_cookie(
            ANON_CSRF_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=svc.settings.cookie_secure,
            path="/",
        )


async def check_csrf(request: Request, who: SignedIn | None = None) -> dict[str, str]:
    """Reads the form and verifies its token; returns the form as a plain dict."""
    form = await request.form()
    sent = str(form.get(CSRF_FIELD, ""))
    expected = who.session.csrf_token if who else request.cookies.get(ANON_CSRF_COOKIE, "")
    if not sent or not expected or not secrets.compare_digest(sent, expected):
        raise Forbidden(
            "This form has expired. Please go back, reload the page and try again.", code="csrf"
        )
    return {k: str(v) for k, v in form.items()}


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
