"""Who is in a room. The in-process store here; a shared store can replace it for many workers.

A card is the public face of a person in a room: {"id", "name", "role"}. One user may have
several connections (two tabs, a phone); she is present while any of them is.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Protocol

Card = dict[str, Any]


class PresenceStore(Protocol):
    async def add(self, room_id: int, conn_key: str, card: Card) -> None:
        """Record one connection of card's user in the room."""

    async def remove(self, room_id: int, conn_key: str) -> None:
        """Forget one connection."""

    async def members(self, room_id: int) -> list[Card]:
        """Distinct people present, by name."""

    async def aclose(self) -> None:
        """Forget what this worker added."""


def distinct_cards(cards: list[Card]) -> list[Card]:
    by_user: dict[int, Card] = {}
    for card in cards:
        by_user[card["id"]] = card
    return sorted(by_user.values(), key=lambda c: (str(c["name"]).lower(), c["id"]))


class MemoryPresence:
    def __init__(self) -> None:
        self._rooms: dict[int, dict[str, Card]] = defaultdict(dict)

    async def add(self, room_id: int, conn_key: str, card: Card) -> None:
        self._rooms[room_id][conn_key] = card

    async def remove(self, room_id: int, conn_key: str) -> None:
        room = self._rooms.get(room_id)
        if room is not None:
            room.pop(conn_key, None)
            if not room:
                del self._rooms[room_id]

    async def members(self, room_id: int) -> list[Card]:
        return distinct_cards(list(self._rooms.get(room_id, {}).values()))

    async def aclose(self) -> None:
        self._rooms.clear()
