"""The common send's unit of work alone (checks, risk engine, counter, insert, commit), for
instruction counts that a loaded machine does not move.

python -m bench.send_unit --prepare /tmp/unit.db   # migrate, 100 rooms x 10, 3,000 messages
cp /tmp/unit.db /tmp/run.db && CALLGRIND=1 valgrind --tool=callgrind --instr-atstart=no \
    --collect-atstart=no --toggle-collect=starmap_next --callgrind-out-file=unit.out \
    python -m bench.send_unit /tmp/run.db --count 300
    # then: instructions per message = the "totals" line of unit.out / 300

Each message is its own transaction (a batch of one, as at low load), on the writer engine's
connection, with no event loop: only the calls inside itertools.starmap are counted.
"""

from __future__ import annotations

import argparse
import itertools
import os
import subprocess
import sys
from datetime import UTC, datetime

from app import risk
from app.storage import send_path
from app.storage.database import sqlite_writer_engine
from bench import run as bench_run
from moderation.engine import default_engine

WARM_MESSAGES = 3_000  # every sender then has the three previous messages the checks read


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", help="SQLite file")
    parser.add_argument("--prepare", action="store_true", help="create and fill the file")
    parser.add_argument("--count", type=int, default=300)
    args = parser.parse_args()
    url = f"sqlite+aiosqlite:///{args.db}"
    if args.prepare:
        env = bench_run.village_env(url, "memory://", "unit")
        bench_run.migrate(env)
        bench_run.provision(env, 100, 10)
    engine = sqlite_writer_engine(url)
    assert engine is not None
    conn = engine.connect()
    raw = conn.connection.driver_connection
    assert raw is not None
    seats = raw.execute(
        "SELECT r.id, r.group_id, m.user_id FROM rooms r JOIN memberships m"
        " ON m.group_id = r.group_id WHERE m.status = 'active' AND m.role = 'member'"
        " ORDER BY r.id, m.user_id"
    ).fetchall()
    default_engine()
    now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    tag = "w" if args.prepare else f"m{os.getpid()}-"

    def one(i: int) -> None:
        room, group, user = seats[i % len(seats)]
        req = send_path.PlainSend(
            room_id=room,
            room_kind="group",
            group_id=group,
            sender_id=user,
            sender_is_staff=False,
            client_id=f"{tag}{i}",
            body="hello there, how are you all doing today",
            now=now,
        )
        tx = conn.begin()
        stored = send_path.store_plain(conn, req, risk.is_benign)
        tx.commit()
        assert isinstance(stored, send_path.Stored), stored

    if args.prepare:
        for i in range(WARM_MESSAGES):
            one(i)
        return 0
    one(-1)  # first-call costs (statement caches, imports) outside the count
    if os.environ.get("CALLGRIND"):
        subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], check=True)
    for _ in itertools.starmap(one, ((i,) for i in range(args.count))):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
