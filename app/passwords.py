"""Password hashing with argon2-cffi (argon2id, the library's tuned defaults)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified when an email is unknown, so a login takes as long whether or not the account exists.
_DUMMY_HASH = _hasher.hash("village-timing-equaliser")
MIN_PASSWORD_CHARS = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
