"""The baseline: Starlette + uvicorn broadcasting each text frame to its room.

No authentication, persistence, ordering, moderation or audit: the floor Village's cost is
measured against, on the same stack and the same WebSocket settings, in the same run.

uvicorn bench.baseline:app --ws websockets-sansio --ws-per-message-deflate false
"""

from __future__ import annotations

import contextlib
from collections import defaultdict

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

rooms: dict[int, set[WebSocket]] = defaultdict(set)


async def room_socket(ws: WebSocket) -> None:
    room = rooms[int(ws.path_params["room_id"])]
    await ws.accept()
    room.add(ws)
    try:
        while True:
            text = await ws.receive_text()
            for peer in tuple(room):
                with contextlib.suppress(Exception):
                    await peer.send_text(text)
    except WebSocketDisconnect:
        pass
    finally:
        room.discard(ws)


app = Starlette(routes=[WebSocketRoute("/ws/rooms/{room_id:int}", room_socket)])
