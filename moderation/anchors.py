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
# An anchor ending in WORD_END is a whole word ("sh$" matches "sh", not "she").
WORD_END = "$"

_WORD_START_ATS = {sre.AT_BOUNDARY, sre.AT_BEGINNING, sre.AT_BEGINNING_STRING}
_REPEATS = {sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", sre.MAX_REPEAT)}
_NON_WORD_CATEGORIES = {sre.CATEGORY_NOT_WORD, sre.CATEGORY_SPACE}

Anchors = frozenset[str]


def required_prefixes(pattern: str) -> Anchors | None:
    """Word prefixes one of which every match contains, or None if none can be proven."""
    found = required_sets(pattern)
    return found[0] if found else None


def required_sets(pattern: str) -> list[Anchors]:
    """Every set of word prefixes the match must contain one of, most selective first.

    "thoughts of hurting the baby" needs one of {thought...} AND one of {hurt, harm, ...} AND
    one of {baby, her, him, ...}; the engine indexes a rule by the first set and checks the
    second cheaply before running the regex.
    """
    try:
        tree = sre_parse.parse(pattern)
    except re.error:
        return []
    candidates = _candidates(list(tree), at_word_start=True)
    usable = [c for c in candidates if min(len(a.rstrip(WORD_END)) for a in c) >= MIN_ANCHOR_CHARS]
    return sorted(usable, key=_quality, reverse=True)


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


def _is_repeat_of_non_word(op: Any, av: Any) -> bool:
    return op in _REPEATS and av[0] >= 1 and _all_non_word(av[2])


def _all_non_word(items: Iterable[tuple[Any, Any]]) -> bool:
    items = list(items)
    return bool(items) and all(_non_word_class(op, av) for op, av in items)


# Prefixes so common that indexing a rule by them would run it on nearly every message.
_COMMON = frozenset(
    "i im ive id ill to the and my me a an is it of in on so that this just be you we he she "
    "her him his hes shes they them their all going gonna time about with can does did last "
    "never today night took sleep baby out up really off what when how know think thinking "
    "thought been being was were had has make made take get got keep need want wan feel like "
    "would could should will every one more back again still too very much day days now here "
    "there then than for from your our by at as or if but who why where which while after "
    "before over under into through even ever some any not no nothing everything everyone "
    "people mom husband life bad better best love little do dont can cant go good right "
    "al de la el lo los las del que mi mis se te le y en un una uno yo tu su es por con para "
    "esta este estoy tengo ya muy mas todo todos hoy noche dia dias cuando como pero porque "
    "si bebe otra vez it its this that have has had just all and off end take taking took make "
    "made know knew how what when do did done to are is was be been day night time one get got "
    "out up see say said says tell told want wanted thinking think thought feel felt like "
    "really so very too much more some any every".split()
)


# The commonest words of chat, a few in nearly every sentence.
_COMMONEST = frozenset(
    "i im a the to and my it its me is of in for this that was so be just like no not she he "
    "her him you we they have but on at with all do dont can cant get got what when how baby "
    "y de la que el en mi me es no lo".split()
)


def expected_frequency(anchors: Anchors) -> int:
    """A rough guess at how often a word of ``anchors`` occurs in chat (higher: more often),
    used only to pick which of a rule's required groups to look up first."""
    total = 0
    for anchor in anchors:
        word = anchor.removesuffix(WORD_END)
        if word in _COMMONEST:
            total += 100
        elif word in _COMMON:
            total += 10
        elif len(word) <= 3 and not anchor.endswith(WORD_END):
            total += 5  # a short prefix starts many words
        else:
            total += 1
    return total


def _quality(anchors: Anchors) -> tuple[bool, bool, int, int]:
    words = [a.rstrip(WORD_END) for a in anchors]
    return (
        min(len(w) for w in words) >= MIN_ANCHOR_CHARS,
        not any(w in _COMMON for w in words),
        # A whole word is as selective as a prefix two letters longer.
        min(
            len(w) + (2 if a.endswith(WORD_END) else 0) for w, a in zip(words, anchors, strict=True)
        ),
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
        if (
            _non_word_class(op, av)
            or _is_repeat_of_non_word(op, av)
            or (op is sre.AT and av in _WORD_START_ATS)
        ):
            return frozenset({prefix + WORD_END})
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
    candidates = _candidates(items, at_word_start)
    if not candidates:
        return None
    return max(candidates, key=_quality)


def _candidates(items: list[tuple[Any, Any]], at_word_start: bool) -> list[Anchors]:
    candidates: list[Anchors] = []
    word = ""
    collecting = at_word_start

    def flush(complete: bool = False) -> None:
        nonlocal word
        if word:
            candidates.append(frozenset({word + WORD_END if complete else word}))
        word = ""

    for op, av in items:
        if op is sre.LITERAL:
            ch = chr(av)
            if _is_word(ch):
                if collecting:
                    word += ch
            else:
                flush(complete=True)
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
        flush(
            complete=_non_word_class(op, av)
            or _is_repeat_of_non_word(op, av)
            or (op is sre.AT and av in _WORD_START_ATS)
        )
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
    return candidates
