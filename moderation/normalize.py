"""Fold a message into the form the rules are written against, keeping a map back to the original.

The folded text is lowercase, without accents or apostrophes ("I'm" -> "im", "suicidé" ->
"suicide"), with emoji spelled as ``e_<name>`` words, and with obfuscated or stretched words
restored when they spell a word of the lexicon ("s*icide", "k!ll", "su1c1de", "diiieee"), and
chat spellings written out ("abt" -> "about", "thinkin" -> "thinking", "w/o" -> "without").

Speed matters (this runs on every chat message), so the common case is a couple of C-level
string operations; the per-token work only runs when a cheap regex says there is something to fix.
Every change that alters length is recorded as an edit, so a span of the folded text can be
mapped back to the exact characters of the original that a clinician will see highlighted.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from operator import itemgetter

# (folded_start, folded_end, original_start, original_end), sorted by position.
Edit = tuple[int, int, int, int]
_FOLDED_START = itemgetter(0)


def _build_translation() -> dict[int, str]:
    """One-to-one character folds, so they never shift offsets."""
    table: dict[int, str] = {}
    for code in range(0xC0, 0x250):
        base = unicodedata.normalize("NFD", chr(code))[0]
        if base.isascii() and base.isalpha():
            table[code] = base.lower()
    for ch in "\u2018\u2019\u201b\u02bc\u0060\u00b4":
        table[ord(ch)] = "'"
    for ch in "\u201c\u201d\u201e\u00ab\u00bb":
        table[ord(ch)] = '"'
    for ch in "\u00bf\u00a1\u00a0\u2009\u202f":
        table[ord(ch)] = " "
    for ch in "\u2013\u2014\u2012":
        table[ord(ch)] = "-"
    table[ord("\u2026")] = "."
    return table


_TRANSLATION = _build_translation()
_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]")


# Deleted outright: apostrophes (rules are written "im", "dont"), combining accents, emoji
# variation selectors, zero-width joiners and skin-tone modifiers.
_DELETE = "'\u0300-\u036f\ufe0e\ufe0f\u200b\u200c\u200d\U0001f3fb-\U0001f3ff"
_DELETE_RE = re.compile(f"[{_DELETE}]")

# Characters people use inside words to dodge filters.
_TOKEN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789@$!*|+#")
_TRIM_END = "!*#|+"
_TRIM_START = "*#|+!"
_LEET: dict[str, str] = {
    "0": "o",
    "1": "[il]",
    "3": "e",
    "4": "a",
    "5": "s",
    "7": "t",
    "@": "a",
    "$": "s",
    "!": "[il]",
    "|": "[il]",
    "+": "t",
    "*": "[a-z]{1,2}",
    "#": "[a-z]{1,2}",
}
# A chat spelling is one of these words, and is replaced only as a whole word.
SPELLING_KEY_RE = re.compile(r"[a-z0-9/]+")
# Punctuation that ends a word for the cheap "any chat spelling here?" check ("nite." -> "nite");
# not "/", which is part of "w/o".
_WORD_SPLIT = str.maketrans({c: " " for c in ".,!?;:()[]{}\"'-~*_"})
_RUN_RE = re.compile(r"(.)\1{2,}")
_TRIPLE_RE = re.compile(r"([a-z])\1\1")
_CACHE_SIZE = 4096


def _hint_table() -> bytes:
    table = bytearray(b" " * 256)
    for ch in "abcdefghijklmnopqrstuvwxyz":
        table[ord(ch)] = ord("a")
    for ch in "0123456789@$!*|+#":
        table[ord(ch)] = ord("1")
    return bytes(table)


# Letters -> "a", obfuscation characters -> "1": a letter next to one shows as "a1" or "1a".
# bytes.translate is an order of magnitude faster than a regex scan of the message.
_HINT_TABLE = _hint_table()


def _hints(t: str, ascii_only: bool, squeeze: bool) -> list[int]:
    """Positions where a word may be disguised (a letter next to a digit or symbol) or, with
    ``squeeze``, stretched. Found with bytes operations, which run at C speed."""
    # encode(..., "replace") gives one byte per character, so positions line up with ``t``.
    data = t.encode("ascii", "replace") if not ascii_only else t.encode("ascii")
    shape = data.translate(_HINT_TABLE)
    positions: list[int] = []
    for pair in (b"a1", b"1a"):
        pos = shape.find(pair)
        while pos != -1:
            positions.append(pos)
            pos = shape.find(pair, pos + 1)
    if squeeze:
        positions.extend(m.start() for m in _TRIPLE_RE.finditer(t))
    positions.sort()
    return positions


def has_stretch(word: str) -> bool:
    """A letter written three or more times in a row ("diiie")."""
    return _TRIPLE_RE.search(word) is not None


# A stretched letter that is not a lexicon word keeps two copies, except letters that
# rarely double in English or Spanish ("hiiii" -> "hi", "sooo" -> "soo").
_SINGLE_WHEN_STRETCHED = frozenset("aiuyhwkjq")


@dataclass(slots=True)
class Folded:
    """A folded message and the edits that map it back to the original.

    When the only change was dropping apostrophes (most messages), the edits are worked out
    lazily from ``_lowered``: most messages never need mapping back because nothing matched.
    """

    original: str
    text: str
    _edits: tuple[Edit, ...] | None = ()
    _lowered: str = ""
    words: set[str] = field(default_factory=set)  # filled in by the engine
    # ``text`` with every character that is not [a-z0-9_] turned into a space, position for
    # position (filled in by the engine): any span of it splits into that span's words.
    word_text: str = ""

    @property
    def edits(self) -> tuple[Edit, ...]:
        if self._edits is None:
            self._edits = (
                _apply(
                    self.original,
                    self._lowered,
                    [(m.start(), m.end(), "") for m in _DELETE_RE.finditer(self._lowered)],
                )._edits
                or ()
            )
        return self._edits

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of the folded text to the span of the original it came from."""
        if not self.edits:
            return start, end
        return self._map_start(start), self._map_end(end)

    def _map_start(self, pos: int) -> int:
        edits = self.edits
        i = bisect_right(edits, pos, key=_FOLDED_START) - 1
        if i < 0:
            return pos
        _, out_end, in_start, in_end = edits[i]
        if pos < out_end:
            return in_start
        return in_end + (pos - out_end)

    def _map_end(self, pos: int) -> int:
        edits = self.edits
        i = bisect_left(edits, pos, key=_FOLDED_START) - 1
        if i < 0:
            return pos
        _, out_end, _, in_end = edits[i]
        if pos <= out_end:
            return in_end
        return in_end + (pos - out_end)


class Folder:
    """Folds text using a lexicon (words to restore) and an emoji table (emoji -> word)."""

    def __init__(
        self,
        words: Iterable[str],
        emoji: Mapping[str, str],
        spellings: Mapping[str, str] | None = None,
    ) -> None:
        self._spellings = dict(spellings or {})
        self._spelling_keys = frozenset(self._spellings)
        alternatives = "|".join(
            re.escape(k) for k in sorted(self._spellings, key=len, reverse=True)
        )
        self._spelling_re = (
            re.compile(rf"(?<![\w/])(?:{alternatives})(?![\w/])") if alternatives else None
        )
        self._words = tuple(sorted(set(words), key=len))
        self._word_set = frozenset(self._words)
        self._emoji = {k: f" e_{v} " for k, v in emoji.items()}
        self._cache: dict[str, str | None] = {}
        keys = sorted(self._emoji, key=len, reverse=True)
        self._emoji_re = re.compile("|".join(re.escape(k) for k in keys)) if keys else None
        # Characters that need more than dropping apostrophes: emoji, combining accents,
        # variation selectors, zero-width joiners and skin tones.
        deleted = {chr(c) for c in range(0x300, 0x370)} | set("\ufe0e\ufe0f\u200b\u200c\u200d")
        deleted |= {chr(c) for c in range(0x1F3FB, 0x1F400)}
        self._special_chars = frozenset({k[0] for k in keys} | deleted)

    def fold(self, text: str, squeeze: bool = False) -> Folded:
        """Fold ``text``; ``squeeze`` also restores stretched words ("diiie" -> "die").

        Looking for stretched letters costs a regex scan of the whole message, so the engine
        folds without it and folds again only when a word of the message has a stretch.
        """
        lowered = text.lower()
        if len(lowered) != len(text):
            # A few characters lowercase to two ("İ"); keep the first so offsets stay 1:1.
            lowered = "".join(c.lower()[0] for c in text)
        ascii_only = lowered.isascii()
        special = False
        if not ascii_only:
            # str.translate walks every character through a dict; only the few non-ASCII
            # characters need it. Emoji and combining marks are noted on the way.
            seen_special: list[str] = []
            special_chars = self._special_chars

            def translate(m: re.Match[str]) -> str:
                ch = m.group()
                if ch in special_chars:
                    seen_special.append(ch)
                    return ch
                return _TRANSLATION.get(ord(ch), ch)

            lowered = _NON_ASCII_RE.sub(translate, lowered)
            special = bool(seen_special)
        hints = _hints(lowered, ascii_only, squeeze)
        fixes = self._token_fixes(lowered, hints) if hints else []
        if self._spelling_re is not None and not self._spelling_keys.isdisjoint(
            lowered.translate(_WORD_SPLIT).split()
        ):
            # Only messages with a chat spelling pay for the regex (split and a set test are C).
            spellings = self._spellings
            fixes.extend(
                (m.start(), m.end(), spellings[m.group()])
                for m in self._spelling_re.finditer(lowered)
            )
        if not fixes and not special:
            # The fast path ("3am" needs no fix, accents are already folded): at most
            # apostrophes to drop, mapped back only if a span is ever asked for.
            if "'" in lowered:
                return Folded(text, lowered.replace("'", ""), None, lowered)
            return Folded(text, lowered)
        found = [(m.start(), m.end(), "") for m in _DELETE_RE.finditer(lowered)]
        if special and self._emoji_re is not None:
            found.extend(
                (m.start(), m.end(), self._emoji[m.group()])
                for m in self._emoji_re.finditer(lowered)
            )
        found.extend(fixes)
        found.sort()
        return _apply(text, lowered, found)

    def _token_fixes(self, t: str, hints: list[int]) -> list[tuple[int, int, str]]:
        fixes: list[tuple[int, int, str]] = []
        last_end = -1
        for hint in hints:
            if hint < last_end:
                continue
            start, end = hint, hint + 1
            while start > 0 and t[start - 1] in _TOKEN_CHARS:
                start -= 1
            while end < len(t) and t[end] in _TOKEN_CHARS:
                end += 1
            last_end = end
            token = t[start:end]
            core = token.lstrip(_TRIM_START)
            start += len(token) - len(core)
            core = core.rstrip(_TRIM_END)
            if not core:
                continue
            fixed = self._restore(core)
            if fixed is not None and fixed != core:
                fixes.append((start, start + len(core), fixed))
        return fixes

    def _restore(self, token: str) -> str | None:
        """The lexicon word this token disguises, or the token with stretches squeezed."""
        if token in self._word_set:
            return None
        try:
            return self._cache[token]
        except KeyError:
            pass
        fixed = self._restore_uncached(token)
        if len(self._cache) >= _CACHE_SIZE:
            self._cache.clear()  # tokens repeat ("3am", "5mg"); a crude bound is enough
        self._cache[token] = fixed
        return fixed

    def _restore_uncached(self, token: str) -> str | None:
        pieces: list[str] = []
        for run in re.finditer(r"(.)\1*", token):
            ch, n = run.group(1), len(run.group())
            piece = _LEET.get(ch, re.escape(ch))
            if n >= 3 or (n == 2 and ch in _LEET):
                pieces.append(f"(?:{piece}){{1,2}}")
            else:
                pieces.append(piece * n if len(piece) == 1 else f"(?:{piece}){{{n}}}")
        pattern = re.compile("".join(pieces))
        for word in self._words:
            if pattern.fullmatch(word):
                return word
        if _RUN_RE.search(token) and token.isalpha():
            return _RUN_RE.sub(
                lambda m: m.group(1) * (1 if m.group(1) in _SINGLE_WHEN_STRETCHED else 2), token
            )
        return None


def _apply(original: str, t: str, replacements: list[tuple[int, int, str]]) -> Folded:
    pieces: list[str] = []
    edits: list[Edit] = []
    cursor = 0
    out = 0
    for start, end, new in replacements:
        if start < cursor:  # overlapping fixes: the first one wins
            continue
        pieces.append(t[cursor:start])
        out += start - cursor
        pieces.append(new)
        edits.append((out, out + len(new), start, end))
        out += len(new)
        cursor = end
    pieces.append(t[cursor:])
    return Folded(original, "".join(pieces), tuple(edits), t)
