"""Context rules read a cue's sentence; where sentences end must not drift when the splitter
is tuned for speed."""

from __future__ import annotations

import random
import re

from moderation.engine import _sentences

# The rule as written for people: . ! ? ; followed by a space, a quote or the end; line breaks.
READABLE_END_RE = re.compile(r"[.!?;]+(?![^\s\"])|\n+")


def reference_sentences(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for m in READABLE_END_RE.finditer(text):
        if m.start() > start:
            spans.append((start, m.start()))
        start = m.end()
    if start < len(text) or not spans:
        spans.append((start, len(text)))
    return spans


def test_decimals_abbreviations_and_stacked_marks_split_as_the_rule_says() -> None:
    """'101.2' and 'e.g.' stay whole; '?!', a closing quote and line breaks end a sentence."""
    text = 'temp is 101.2 e.g. high?! she said "i cant." then\n\nnothing; ok.'
    assert _sentences(text) == reference_sentences(text)
    assert [text[a:b] for a, b in _sentences(text)] == [
        "temp is 101.2 e.g",
        " high",
        ' she said "i cant',
        '" then',
        "nothing",
        " ok",
    ]


def test_random_punctuation_splits_as_the_rule_says() -> None:
    """Any mix of marks, spaces, quotes and letters splits exactly as the readable rule."""
    rng = random.Random(3)
    alphabet = '.!?;\n "a\u00a0\u2028x'
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(25)))
        assert _sentences(text) == reference_sentences(text), repr(text)
