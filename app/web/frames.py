"""Client frames, validated once at the edge into typed commands (protocol v1)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

PROTOCOL_VERSION = 1


class BadFrame(Exception):
    def __init__(self, code: str, message: str, client_id: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.client_id = code, message, client_id


@dataclass(frozen=True)
class Send:
    client_id: str
    body: str


@dataclass(frozen=True)
class Ping:
    nonce: Any = None


Command = Send | Ping


def parse(text: str, max_bytes: int) -> Command:
    if len(text) > max_bytes or len(text.encode()) > max_bytes:
        raise BadFrame("frame_too_large", f"Frames are limited to {max_bytes:,} bytes.")
    try:
        data = json.loads(text)
    except ValueError:
        raise BadFrame("malformed_json", "That frame is not valid JSON.") from None
    if not isinstance(data, dict):
        raise BadFrame("malformed_frame", "A frame must be a JSON object.")
    kind = data.get("type")
    client_id = data.get("client_id") if isinstance(data.get("client_id"), str) else None
    if kind == "send":
        # Deeper checks (length, emptiness) belong to the domain, which gives the same errors
        # to every transport.
        return Send(client_id=data.get("client_id"), body=data.get("body"))  # type: ignore[arg-type]
    if kind == "ping":
        return Ping(data.get("nonce"))
    raise BadFrame("unknown_type", f"Unknown frame type {str(kind)[:40]!r}.", client_id)


def out(kind: str, **fields: Any) -> str:
    return json.dumps({"type": kind, **fields}, separators=(",", ":"), ensure_ascii=False)


def error(code: str, message: str, client_id: str | None = None, **extra: Any) -> str:
    fields: dict[str, Any] = {"code": code, "message": message, **extra}
    if client_id is not None:
        fields["client_id"] = client_id
    return out("error", **fields)
