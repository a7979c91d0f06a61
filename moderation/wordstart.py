"""Search a ``\\b(?:...)\\b`` rule pattern so that ``re`` can skip to where a match may start.

Every rule pattern is compiled as ``\\b(?:...)\\b``. The leading ``\\b`` hides from ``re`` what a
match starts with, so its search calls the full matcher at every position of the text (about
200 instructions each, most of a cue search's cost). Without it, ``re`` sees the literal prefix
("dead inside") or the set of first characters ("he|husband|partner") and skips to candidates
in C. When every match starts with a word character, the dropped ``\\b`` only says "the
character before is not a word character", which ``search`` below checks on the match found.

Same matches, same spans, same order: at a position that starts a word the two patterns try
the same thing; at any other position the original cannot match, and a match of the quick
pattern there is skipped and the search resumes one character further on. A pattern this cannot
prove safe (a first character that may not be a word character, a match that may be empty)
keeps its original regex.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_LEAD = "\\b(?:"
_TAIL = ")\\b"


def is_word(ch: str) -> bool:
    """What ``\\b`` and ``\\w`` call a word character in a str pattern (Unicode)."""
    return ch.isalnum() or ch == "_"


def quick_pattern(regex: re.Pattern[str]) -> re.Pattern[str] | None:
    """``regex`` without its leading ``\\b``, if ``re`` can then skip ahead and every match
    starts with a word character; None otherwise."""
    pattern = regex.pattern
    if not (
        isinstance(pattern, str)
        and pattern.startswith(_LEAD)
        and pattern.endswith(_TAIL)
        and regex.flags == re.UNICODE
    ):
        return None
    try:
        from re import _compiler, _parser  # type: ignore[attr-defined]  # no public API

        whole = _parser.parse(pattern)
        # The leading \b must start a sequence, not one branch of a top-level "|".
        if not whole.data or whole.data[0] != (_parser.AT, _parser.AT_BOUNDARY):
            return None
        tail = pattern[len("\\b") :]
        tree = _parser.parse(tail)
        if tree.getwidth()[0] < 1:
            return None
        prefix, _, _ = _compiler._get_literal_prefix(tree, 0)
        first = [(_parser.LITERAL, prefix[0])] if prefix else _compiler._get_charset_prefix(tree, 0)
    except (AttributeError, TypeError, ValueError, re.error):
        return None  # a different re internals: keep the plain regex
    if not first or not all(_word_set(op, av) for op, av in first):
        return None
    return re.compile(tail)


def _word_set(op: object, av: object) -> bool:
    from re import _parser  # type: ignore[attr-defined]

    if op is _parser.LITERAL and isinstance(av, int):
        return is_word(chr(av))
    if op is _parser.RANGE and isinstance(av, tuple):
        return all(is_word(chr(c)) for c in range(av[0], av[1] + 1))
    return False  # a category or a negated set: not provably word characters


class WordStart:
    """A rule regex with ``search`` and ``finditer`` that skip ahead when they safely can."""

    __slots__ = ("pattern", "quick", "regex")

    def __init__(self, regex: re.Pattern[str]) -> None:
        self.regex = regex
        self.quick = quick_pattern(regex)
        self.pattern = regex.pattern

    def search(self, text: str, pos: int = 0, endpos: int | None = None) -> re.Match[str] | None:
        end = len(text) if endpos is None else endpos
        quick = self.quick
        if quick is None:
            return self.regex.search(text, pos, end)
        while True:
            m = quick.search(text, pos, end)
            if m is None:
                return None
            start = m.start()
            if not start or not is_word(text[start - 1]):
                return m
            pos = start + 1

    def finditer(
        self, text: str, pos: int = 0, endpos: int | None = None
    ) -> Iterator[re.Match[str]]:
        end = len(text) if endpos is None else endpos
        if self.quick is None:
            yield from self.regex.finditer(text, pos, end)
            return
        # A quick match is never empty, so the next search starts past this one, as finditer's.
        while (m := self.search(text, pos, end)) is not None:
            yield m
            pos = m.end()
