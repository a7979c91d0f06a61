"""The one place HTTP turns domain errors into responses."""

from __future__ import annotations

import logging

from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from app.errors import NotAuthenticated, VillageError
from app.storage.database import DatabaseUnavailable
from app.web.render import page

log = logging.getLogger("village.web")


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def village_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, VillageError)
    if isinstance(exc, NotAuthenticated) and not _wants_json(request):
        target = request.url.path
        return RedirectResponse(f"/login?next={target}", 303)
    if _wants_json(request):
        return JSONResponse({"error": exc.code, "message": exc.message}, exc.status)
    return page(request, "error.html", status=exc.status, message=exc.message)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = "Not found." if exc.status_code == 404 else (exc.detail or "Error.")
    if _wants_json(request):
        return JSONResponse({"error": "http", "message": message}, exc.status_code)
    return page(request, "error.html", status=exc.status_code, message=message)


async def unavailable(request: Request, exc: Exception) -> Response:
    log.error("service unavailable on %s: %s", request.url.path, type(exc).__name__)
    message = "Village is having trouble reaching its database. Please try again in a minute."
    if _wants_json(request):
        return JSONResponse({"error": "unavailable", "message": message}, 503)
    return page(request, "error.html", status=503, message=message)


handlers = {
    VillageError: village_error,
    HTTPException: http_error,
    DatabaseUnavailable: unavailable,
    DBAPIError: unavailable,
    OSError: unavailable,
}
