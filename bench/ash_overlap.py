"""Fail if the rule files or the corpus reuse text from the ash-thrash evaluation set.

ash-thrash (GPL-3.0) is evaluation-only data: none of its phrases may be copied into the
product's rules or labelled corpus, or the evaluation would measure memorisation. This check
normalises every text (lowercase, letters only, spaces collapsed) and fails when a rule example,
counter-example or corpus message equals an ash-thrash text, or contains an ash-thrash text of
five words or more.

    python -m bench.ash_overlap [ASH_THRASH.jsonl]

Run it before every commit that touches ``moderation/rules`` or ``moderation/eval``.
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ASH = ROOT.parent / "shared" / "eval" / "ash-thrash.jsonl"
RULES_DIR = ROOT / "moderation" / "rules"
CORPUS = ROOT / "moderation" / "eval" / "corpus.jsonl"
# Shorter ash-thrash texts ("I feel so alone") are ordinary words any author would write;
# only whole-text equality counts for them.
MIN_CONTAINED_WORDS = 5

_NON_LETTERS = re.compile(r"[^a-z]+")


def normalise(text: str) -> str:
    return _NON_LETTERS.sub(" ", text.lower()).strip()


def our_texts() -> Iterator[tuple[str, str]]:
    """(where, text) for every rule example, counter-example and corpus message."""
    for path in sorted(RULES_DIR.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for table in ("cue", "rule"):
            for i, entry in enumerate(data.get(table, [])):
                name = entry.get("id") or entry.get("name") or f"#{i}"
                for field in ("examples", "counter_examples"):
                    for text in entry.get(field, []):
                        yield f"{path.name}: {name} {field}", text
    with CORPUS.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                item = json.loads(line)
                yield f"corpus {item['id']}", item["text"]


def overlaps(ash_path: Path) -> list[str]:
    ash = set()
    with ash_path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                ash.add(normalise(json.loads(line)["text"]))
    long_ash = [a for a in ash if len(a.split()) >= MIN_CONTAINED_WORDS]
    found = []
    for where, text in our_texts():
        ours = normalise(text)
        padded = f" {ours} "
        if ours in ash:
            found.append(f"{where}: equals an ash-thrash text: {text!r}")
            continue
        for a in long_ash:
            if f" {a} " in padded:
                found.append(f"{where}: contains ash-thrash text {a!r}: {text!r}")
                break
    return found


def main(argv: list[str]) -> int:
    ash_path = Path(argv[0]) if argv else DEFAULT_ASH
    if not ash_path.exists():
        print(f"ash-thrash file not found: {ash_path}", file=sys.stderr)
        return 2
    found = overlaps(ash_path)
    for line in found:
        print(line)
    print(f"{len(found)} overlap(s) with {ash_path.name}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
