"""Every assessment the engine makes, dumped as JSON, to prove a speed change changes no result.

    PYTHONHASHSEED=0 python bench/moderation_identity.py > before-0.jsonl
    ... change the engine ...
    PYTHONHASHSEED=0 python bench/moderation_identity.py > after-0.jsonl
    cmp before-0.jsonl after-0.jsonl

(repeat with PYTHONHASHSEED=1 and 2: set iteration order differs between seeds, and a result
must never depend on it). To dump an older commit, extract its ``moderation/`` with
``git archive`` and put that directory first on ``PYTHONPATH``.

Texts: the package corpus (with each item's own ``recent``), the ash-thrash evaluation set if
present, and the bench's generated ~300-character messages. Each bench message is assessed
alone, and every third one again with up to three neighbouring messages as ``recent``, so the
recent-message paths (raisers across messages, cues in older messages) are covered too. The
whole list is assessed twice with one engine: once with cold word caches and once warm, since
the caches must never change a result either. The last line is a summary with the count and a
SHA-256 of everything above it.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from moderation.bench import make_messages
from moderation.engine import load_engine
from moderation.evaluate import DEFAULT_CORPUS, load_items

ASH_THRASH = Path("/work/shared/eval/ash-thrash.jsonl")
BENCH_MESSAGES = 8000
BENCH_SEED = 7
RECENT_EVERY = 3  # every third bench message is also assessed with its neighbours as recent


def cases() -> Iterator[tuple[str, str, tuple[str, ...]]]:
    """(label, text, recent) for every assessment to dump."""
    for item in load_items(DEFAULT_CORPUS):
        yield f"corpus:{item.id}", item.text, item.recent
    if ASH_THRASH.exists():
        for item in load_items(ASH_THRASH):
            yield f"ash:{item.id}", item.text, item.recent
    messages = make_messages(BENCH_MESSAGES, seed=BENCH_SEED)
    for n, message in enumerate(messages):
        yield f"bench:{n}", message, ()
        if n % RECENT_EVERY == 0 and n:
            depth = 1 + n % 3
            yield f"bench:{n}+recent{depth}", message, tuple(messages[max(0, n - depth) : n])


def main() -> None:
    engine = load_engine()
    all_cases = list(cases())
    digest = hashlib.sha256()
    count = 0
    for warmth in ("cold", "warm"):
        for label, text, recent in all_cases:
            result = engine.assess(text, recent=recent)
            line = json.dumps(
                {"case": f"{warmth}:{label}", **result.to_dict()},
                ensure_ascii=False,
                sort_keys=True,
            )
            digest.update(line.encode())
            sys.stdout.write(line + "\n")
            count += 1
    sys.stdout.write(json.dumps({"assessments": count, "sha256": digest.hexdigest()}) + "\n")


if __name__ == "__main__":
    main()
