"""gunicorn worker class with Village's WebSocket choices (the Procfile's alternative server).

gunicorn -k app.gunicorn_worker.VillageWorker -w 4 'app.factory:create_app()'

uvicorn-worker's defaults pick the legacy WebSocket implementation and per-message deflate;
these are the settings `python -m app serve` uses (docs/performance.md measures why).
"""

from __future__ import annotations

from typing import Any

from uvicorn_worker import UvicornWorker

from app.settings import Settings


def _ws_options() -> dict[str, Any]:
    settings = Settings()
    return {
        "loop": "auto",
        "http": "auto",
        "ws": "websockets-sansio",
        "ws_max_size": settings.ws_hard_max_bytes,
        "ws_per_message_deflate": settings.ws_per_message_deflate,
        "proxy_headers": True,
    }


class VillageWorker(UvicornWorker):
    CONFIG_KWARGS = _ws_options()
