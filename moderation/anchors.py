"""Find the words every match of a pattern must contain, so the engine can skip most rules.

Running a few hundred regexes over every chat message is far too slow (milliseconds); most
messages contain none of the words the rules are about. For each cue we derive a small set of
word prefixes such that any match contains one of them at the start of a word ("kill", "suicid",
"pastilla"). One trie-shaped regex finds which of those prefixes a message contains, and only the
cues they index are run, and only on the sentences where they occur.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from re import _constants as sre  # type: ignore[attr-defined]  # no public parser API
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

MIN_ANCHOR_CHARS = 2

_WORD_START_ATS = {sre.AT_BOUNDARY, sre.AT_BEGINNING, sre.AT_BEGINNING_STRING}
_REPEATS = {sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", sre.MAX_REPEAT)}
_NON_WORD_CATEGORIES = {sre.CATEGORY_NOT_WORD, sre.CATEGORY_SPACE}

Anchors = frozenset[str]


def required_prefixes(pattern: str) -> Anchors | None:
    """Word prefixes one of which every match contains, or None if none can be proven."""
    try:
        tree = sre_parse.parse(pattern)
    except re.error:
        return None
    found = _sequence(list(tree), at_word_start=True)
    if not found or min(len(a) for a in found) < MIN_ANCHOR_CHARS:
        return None
    return found


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _non_word_class(op: Any, av: Any) -> bool:
    if op is sre.LITERAL:
        return not _is_word(chr(av))
    if op is sre.CATEGORY:
        return av in _NON_WORD_CATEGORIES
    if op is sre.IN:
        for item_op, item_av in av:
            if item_op is sre.NEGATE:
                return False
            if not _non_word_class(item_op, item_av):
                return False
        return True
    return False


def _all_non_word(items: Iterable[tuple[Any, Any]]) -> bool:
    items = list(items)
    return bool(items) and all(_non_word_class(op, av) for op, av in items)


# Prefixes so common that indexing a rule by them would run it on nearly every message.
_COMMON = frozenset(
    "i im ive id to the and my me a an is it of in on so that this just be you we he she "
    "wan want have feel like get go not no do dont can cant al de la el lo que mi se y en un una "
    "yo tu su es por con para".split()
)


def _quality(anchors: Anchors) -> tuple[bool, int, int]:
    return (
        not any(a in _COMMON for a in anchors),
        min(len(a) for a in anchors),
        -len(anchors),
    )


def _ends_non_word(items: list[tuple[Any, Any]]) -> bool:
    """True when whatever follows these items starts a new word."""
    if not items:
        return False
    op, av = items[-1]
    if op in _REPEATS:
        return av[0] >= 1 and (_all_non_word(av[2]) or _ends_non_word(list(av[2])))
    if op is sre.SUBPATTERN:
        return _ends_non_word(list(av[-1]))
    if op is sre.BRANCH:
        return all(_ends_non_word(list(b)) for b in av[1])
    return _non_word_class(op, av)


def _leading(items: list[tuple[Any, Any]]) -> Anchors | None:
    """The literal word prefixes every match of ``items`` starts with."""
    prefix = ""
    for op, av in items:
        if op is sre.LITERAL and _is_word(chr(av)):
            prefix += chr(av)
            continue
        inner: list[Anchors | None] = []
        if op is sre.BRANCH:
            inner = [_leading(list(branch)) for branch in av[1]]
        elif op is sre.SUBPATTERN:
            inner = [_leading(list(av[-1]))]
        if inner and all(inner):
            return frozenset(prefix + s for options in inner for s in options)  # type: ignore[union-attr]
        break
    return frozenset({prefix}) if prefix else None


def _sequence(items: list[tuple[Any, Any]], at_word_start: bool) -> Anchors | None:
    candidates: list[Anchors] = []
    word = ""
    collecting = at_word_start

    def flush() -> None:
        nonlocal word
        if word:
            candidates.append(frozenset({word}))
        word = ""

    for op, av in items:
        if op is sre.LITERAL:
            ch = chr(av)
            if _is_word(ch):
                if collecting:
                    word += ch
            else:
                flush()
                collecting = True
            continue
        if word and op in (sre.BRANCH, sre.SUBPATTERN):
            # "d(?:ead|ie)": the parser factors out common prefixes; glue them back on.
            leads = _leading([(op, av)])
            if leads:
                candidates.append(frozenset(word + lead for lead in leads))
                word = ""
                collecting = _ends_non_word([(op, av)])
                continue
        flush()
        if op is sre.AT:
            collecting = av in _WORD_START_ATS
        elif op in (sre.ASSERT, sre.ASSERT_NOT):
            continue  # zero-width: the position is unchanged
        elif op in _REPEATS:
            low, _high, sub = av
            if _all_non_word(sub):
                collecting = low >= 1
            else:
                if low >= 1:
                    inner = _sequence(list(sub), collecting)
                    if inner:
                        candidates.append(inner)
                    collecting = _ends_non_word(list(sub))
                else:
                    collecting = collecting and _ends_non_word(list(sub))
        elif op is sre.SUBPATTERN:
            inner = _sequence(list(av[-1]), collecting)
            if inner:
                candidates.append(inner)
            collecting = _ends_non_word(list(av[-1]))
        elif op is sre.BRANCH:
            options = [_sequence(list(branch), collecting) for branch in av[1]]
            if all(options):
                candidates.append(frozenset().union(*options))  # type: ignore[arg-type]
            collecting = all(_ends_non_word(list(b)) for b in av[1])
        else:
            collecting = _non_word_class(op, av)
    flush()
    if not candidates:
        return None
    return max(candidates, key=_quality)


def trie_regex(words: Iterable[str]) -> re.Pattern[str]:
    """One regex matching any of ``words`` at a word start, shaped as a trie so it stays fast."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if "" in node:
            return f"(?:{body})?"
        return body

    return re.compile(r"\b" + emit(trie))
