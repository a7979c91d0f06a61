"""Village's server under tracemalloc, for finding what each idle connection holds.

python -m bench.memtrace --port P --out DIR   (the bench starts it: `bench.run --tracemalloc DIR`)
python -m bench.memtrace --show DIR/1.snap --connections N [--baseline DIR/baseline/1.snap]

Same app and WebSocket settings as `python -m app serve`, one worker. The first SIGUSR1
starts tracing (after start-up: tracing the rule compilation would take minutes); each later
one writes a snapshot of what was allocated since and is still alive to DIR/<n>.snap, after a
full collection. `python -m bench.memtrace --show SNAP --connections N` prints the biggest
holders per connection, grouped by the allocating line; with `--baseline SNAP` (the baseline
server traced the same way, `--app bench.baseline:app`) it prints what Village holds beyond
the baseline, per allocating line. Tracing slows the server and adds
its own memory: use it to find what grows, and the plain idle scenario for the figure.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import signal
import sys
import tracemalloc
from pathlib import Path

TRACE_FRAMES = 8  # deep enough to see past asyncio and SQLAlchemy into the caller


def serve(port: int, out: Path, app: str | None = None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    counter = itertools.count(1)

    def dump(*_: object) -> None:
        if not tracemalloc.is_tracing():
            gc.collect()
            tracemalloc.start(TRACE_FRAMES)
            return
        gc.collect()
        tracemalloc.take_snapshot().dump(str(out / f"{next(counter)}.snap"))

    signal.signal(signal.SIGUSR1, dump)
    run_server(port, app)


def run_server(port: int, app: str | None = None) -> None:
    """Village (or `app`, a factory path) with the WebSocket settings `python -m app serve` uses."""
    import uvicorn

    from app.settings import Settings

    settings = Settings()
    uvicorn.run(
        app or "app.factory:create_app",
        factory=app is None,
        host="127.0.0.1",
        port=port,
        ws="websockets-sansio",
        ws_max_size=settings.ws_hard_max_bytes,
        ws_per_message_deflate=settings.ws_per_message_deflate,
        log_level=settings.log_level,
    )


def _short(name: str) -> str:
    return name.split("site-packages/")[-1].split("/python3.11/")[-1].split("/app/")[-1]


def _where(tb: tracemalloc.Traceback) -> str:
    # The innermost frame in Village's own code says which of its objects holds the memory.
    for frame in reversed(list(tb)):  # a Traceback lists the outermost frame first
        if "/app/" in frame.filename and "site-packages" not in frame.filename:
            return f"app/{_short(frame.filename)}:{frame.lineno}"
    frame = tb[-1]
    return f"{_short(frame.filename)}:{frame.lineno}"


def show(path: Path, top: int, connections: int) -> None:
    snap = tracemalloc.Snapshot.load(str(path))
    grouped: dict[str, int] = {}
    for stat in snap.statistics("traceback"):
        inner = stat.traceback[-1]
        key = f"{_where(stat.traceback)}  (allocated at {_short(inner.filename)}:{inner.lineno})"
        grouped[key] = grouped.get(key, 0) + stat.size
    total = sum(grouped.values())
    print(f"traced growth {total / 1024:.0f} KiB = {total / max(1, connections):.0f} B/connection")
    for key, size in sorted(grouped.items(), key=lambda kv: -kv[1])[:top]:
        print(f"{size / max(1, connections):8.0f} B/conn  {key}")


def _by_site(path: Path) -> dict[str, int]:
    out: dict[str, int] = {}
    for stat in tracemalloc.Snapshot.load(str(path)).statistics("lineno"):
        frame = stat.traceback[-1]
        key = f"{_short(frame.filename)}:{frame.lineno}"
        out[key] = out.get(key, 0) + stat.size
    return out


def diff(path: Path, base: Path, top: int, connections: int) -> None:
    """Per allocating line: Village's bytes per connection minus the baseline's."""
    mine, theirs = _by_site(path), _by_site(base)
    n = max(1, connections)
    print(
        f"traced growth per connection: Village {sum(mine.values()) / n:.0f} B, "
        f"baseline {sum(theirs.values()) / n:.0f} B"
    )
    delta = {k: mine.get(k, 0) - theirs.get(k, 0) for k in mine.keys() | theirs.keys()}
    for key, size in sorted(delta.items(), key=lambda kv: -abs(kv[1]))[:top]:
        print(f"{size / n:+8.0f} B/conn  {key}")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memtrace")
    parser.add_argument("--port", type=int)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--show", type=Path, metavar="SNAP")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--baseline", type=Path, metavar="SNAP", help="--show: subtract this")
    parser.add_argument("--app", help="serve this ASGI app (module:attr) instead of Village")
    args = parser.parse_args()
    if args.show and args.baseline:
        diff(args.show, args.baseline, args.top, args.connections)
    elif args.show:
        show(args.show, args.top, args.connections)
    else:
        serve(args.port, args.out, args.app)
    return 0


if __name__ == "__main__":
    sys.exit(main())
