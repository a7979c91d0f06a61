"""The evaluation-only ash-thrash set (GPL-3.0) must never leak into the rules or the corpus.

A rule tuned on a copied phrase would inflate the ash-thrash score without generalising, and
the phrases may not be redistributed with the product. The set lives in ``../shared/eval/``
beside the repository (or in VILLAGE_EVAL_DIR); where it is absent (a plain clone elsewhere)
there is nothing to compare with and the check is skipped, which CI reports as a failure.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
import unicodedata
from pathlib import Path

import pytest

from moderation.evaluate import DEFAULT_CORPUS
from moderation.rules import DEFAULT_RULES_DIR

_NAME = "ash-thrash.jsonl"
_PLACES = [
    *([Path(os.environ["VILLAGE_EVAL_DIR"])] if os.environ.get("VILLAGE_EVAL_DIR") else []),
    Path(__file__).resolve().parents[2].parent / "shared" / "eval",  # beside the repository
    Path("/work/shared/eval"),  # this team's machines, where CI clones to a temporary folder
]
ASH_THRASH = next((p / _NAME for p in _PLACES if (p / _NAME).exists()), _PLACES[0] / _NAME)
# An eval phrase this long found inside one of our texts is a copy, not a coincidence.
MIN_CONTAINED_WORDS = 5
_APOSTROPHES_RE = re.compile(r"['\u2019`]")
_NON_LETTERS_RE = re.compile(r"[^a-z]+")


def normalise(text: str) -> str:
    """Lowercase letters only, accents dropped, apostrophes closed up, spaces collapsed."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _APOSTROPHES_RE.sub("", text)
    return _NON_LETTERS_RE.sub(" ", text).strip()


def _our_texts() -> list[tuple[str, str]]:
    """(where, text) for every rule example, counter-example and corpus message."""
    texts: list[tuple[str, str]] = []
    for path in sorted(DEFAULT_RULES_DIR.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for table in ("cue", "rule"):
            for entry in data.get(table, []):
                for field in ("examples", "counter_examples"):
                    for text in entry.get(field, []):
                        texts.append((f"{path.name}: {entry.get('id') or entry.get('name')}", text))
    with DEFAULT_CORPUS.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                texts.append((f"{DEFAULT_CORPUS.name}: {row['id']}", row["text"]))
    return texts


def leaks(ours: list[tuple[str, str]], theirs: list[str]) -> list[str]:
    """Our texts that equal an eval text, or contain one of MIN_CONTAINED_WORDS+ words."""
    exact = {t for t in theirs if t}
    long_ones = [t for t in exact if len(t.split()) >= MIN_CONTAINED_WORDS]
    found: list[str] = []
    for where, text in ours:
        padded = f" {normalise(text)} "
        if padded.strip() in exact:
            found.append(f"{where}: equals an eval text: {text!r}")
            continue
        for phrase in long_ones:
            if f" {phrase} " in padded:
                found.append(f"{where}: contains the eval text {phrase!r}")
                break
    return found


def test_normalise_ignores_case_punctuation_and_apostrophes() -> None:
    assert normalise("I'm  SO done -- we're   fine!") == "im so done were fine"
    assert normalise("Mañana, ¿qué?") == "manana que"


def test_leak_check_finds_a_copied_phrase_inside_a_longer_text() -> None:
    """The checker itself must catch what it is for: a copy hidden in a longer message."""
    theirs = [normalise("the quick brown fox jumps over"), normalise("too short here")]
    ours = [
        ("a", "lol The quick brown fox, jumps over! the dog"),
        ("b", "too short here"),
        ("c", "too short here and more"),
        ("d", "the quick brown fox"),
    ]
    assert [f.split(":")[0] for f in leaks(ours, theirs)] == ["a", "b"]


@pytest.mark.skipif(not ASH_THRASH.exists(), reason="no eval set beside the repo")
def test_no_rule_example_or_corpus_text_copies_an_eval_phrase() -> None:
    with ASH_THRASH.open(encoding="utf-8") as fh:
        theirs = [normalise(json.loads(line)["text"]) for line in fh if line.strip()]
    found = leaks(_our_texts(), theirs)
    assert not found, "\n".join(found[:30])
