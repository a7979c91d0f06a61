"""What travels through the broker: a short text header, a newline, then the client frame.

The frame is encoded once per audience and never re-encoded per recipient. The header
carries the message's room sequence number (0 for frames that are not messages) and who may
see it, so the hub can order, de-duplicate and filter without parsing the frame.

Audience tokens, comma-separated: `*` everyone in the room, `staff` facilitators and
clinicians, `members` everyone who is not staff, `u:<id>` one user.
"""

from __future__ import annotations

from dataclasses import dataclass

STAFF_ROLES = frozenset({"facilitator", "clinician"})


@dataclass(frozen=True, slots=True)
class Envelope:
    seq: int
    audience: str
    frame: str

    def encode(self) -> bytes:
        return f"{self.seq} {self.audience}\n{self.frame}".encode()

    @staticmethod
    def decode(data: bytes) -> Envelope:
        header, _, frame = data.partition(b"\n")
        seq, _, audience = header.decode().partition(" ")
        return Envelope(int(seq), audience, frame.decode())


def can_see(audience: str, user_id: int, role: str) -> bool:
    if audience == "*":
        return True
    for token in audience.split(","):
        if token == "*":
            return True
        if token == "staff" and role in STAFF_ROLES:
            return True
        if token == "members" and role not in STAFF_ROLES:
            return True
        if token.startswith("u:") and token[2:] == str(user_id):
            return True
    return False


def room_channel(room_id: int) -> str:
    return f"room:{room_id}"


CONTROL_CHANNEL = "control"
