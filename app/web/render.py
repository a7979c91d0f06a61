"""Jinja2 rendering with autoescaping on (templates are .html): messages render as text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from app.web.auth import CSRF_FIELD, anon_csrf_token, services, set_anon_csrf_cookie

ROOT = Path(__file__).resolve().parents[2]
templates = Jinja2Templates(directory=str(ROOT / "templates"))


def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    who = getattr(request.state, "signed_in", None)
    csrf = who.session.csrf_token if who else anon_csrf_token(request)
    context.setdefault("user", who.user if who else None)
    response = templates.TemplateResponse(
        request, name, {"csrf": csrf, "csrf_field": CSRF_FIELD, **context}, status_code=status
    )
    response.headers["Cache-Control"] = "no-store"
    set_anon_csrf_cookie(request, response, services(request))
    return response
