"""Instructions per message of the moderation engine, counted by callgrind.

Timings on the shared development VM swing by a factor of three with the other processes on it;
instruction counts do not, so a before/after comparison of engine code uses this:

    PYTHONHASHSEED=0 valgrind --tool=callgrind --instr-atstart=no --collect-atstart=no \\
        --toggle-collect=starmap_next python bench/moderation_instructions.py [SELECTION]

and divides the "Collected" total by the message count printed on stderr. The rules are
compiled and the word cache warmed before callgrind_control switches instrumentation on
(compiling under callgrind takes minutes); only the assessing loop, run through
``itertools.starmap`` (nothing in the engine uses it), is counted.

SELECTION: ``all`` (the default); ``light`` keeps the messages in which no cue is found,
``heavy`` those with one; ``fold`` counts folding only and ``search`` folding plus the cue
search, without the context rules (their share is ``all`` minus ``search``). To measure an
older commit, extract its ``moderation/`` with ``git archive`` and put that directory first on
``PYTHONPATH``.
"""

from __future__ import annotations

import collections
import itertools
import os
import subprocess
import sys
import time
from collections.abc import Callable

from moderation.bench import make_messages
from moderation.engine import default_engine

WARM_UP = 500
MEASURED = 1000
# How long to wait for callgrind_control to switch instrumentation on (seconds).
CONTROL_TIMEOUT_SECS = 60


def main() -> None:
    selection = sys.argv[1] if len(sys.argv) > 1 else "all"
    engine = default_engine()
    messages = make_messages(WARM_UP + MEASURED, seed=7)
    for message in messages:
        engine.assess(message)
    work = messages[WARM_UP:]
    step: Callable[[str], object] = engine.assess
    if selection == "fold":
        step = engine.fold
    elif selection == "search":

        def step(message: str) -> object:
            return engine._hits(engine._fold(message), 0)

    elif selection != "all":
        # Split on whether the cue search found anything (the context rules then run).
        with_cue = selection == "heavy"
        work = [m for m in work if bool(engine._hits(engine._fold(m), 0)[0]) == with_cue]
    print(f"{selection}: {len(work)} messages", file=sys.stderr)
    control = subprocess.Popen(
        ["callgrind_control", "-i", "on", str(os.getpid())], stdout=subprocess.DEVNULL
    )
    started = time.monotonic()
    # Keep executing Python (a blocked process never reads callgrind's command file).
    while control.poll() is None and time.monotonic() - started < CONTROL_TIMEOUT_SECS:
        sum(range(1000))
    collections.deque(itertools.starmap(step, [(m,) for m in work]), maxlen=0)


if __name__ == "__main__":
    main()
