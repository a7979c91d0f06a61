"""Domain errors: a stable code, a message safe to show the user, an HTTP status and a close code.

Transport maps these to responses in exactly two places: app/web/errors.py (HTTP) and
app/web/ws.py (WebSocket error frames and close codes).
"""

from __future__ import annotations


class VillageError(Exception):
    code = "error"
    status = 400
    message = "Something went wrong."

    def __init__(self, message: str | None = None, *, code: str | None = None) -> None:
        self.message = message or self.message
        self.code = code or self.code
        super().__init__(self.message)


class NotFound(VillageError):
    # Used for "not yours" as well as "does not exist", so nobody learns what exists.
    code = "not_found"
    status = 404
    message = "Not found."


class Forbidden(VillageError):
    code = "forbidden"
    status = 403
    message = "You do not have access to this."


class NotAuthenticated(VillageError):
    code = "not_authenticated"
    status = 401
    message = "Please sign in."


class InvalidInput(VillageError):
    code = "invalid"
    status = 400
    message = "That input is not valid."


class Conflict(VillageError):
    code = "conflict"
    status = 409
    message = "That conflicts with something that already exists."


class RateLimited(VillageError):
    code = "rate_limited"
    status = 429
    message = "Too many attempts. Please wait a little and try again."


class AgreementsRequired(VillageError):
    code = "agreements_required"
    status = 403
    message = "Please read and accept the group agreements first."
