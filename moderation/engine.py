"""The engine: find cues sentence by sentence, apply context, combine into one assessment."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import reduce
from operator import or_
from pathlib import Path

from moderation.anchors import WORD_END, Anchors, expected_frequency
from moderation.assessment import (
    RISK_CATEGORIES,
    Assessment,
    AssessmentError,
    Evidence,
    RulesError,
    Severity,
)
from moderation.context import (
    ContextEvaluator,
    ContextRules,
    Hit,
    Texts,
    load_context,
    source_label,
)
from moderation.normalize import SPELLING_KEY_RE, Folded, Folder, has_stretch
from moderation.rules import (
    DEFAULT_RULES_DIR,
    Cue,
    Part,
    check_unique,
    cue_files,
    cue_matches,
    load_cues,
    load_terms,
    read_toml,
)

# Chat messages are short; anything this long is a paste or an attack, and a human should look.
MAX_CHARS = 100_000
# Only the last few messages of the same member change the meaning of a new one.
MAX_RECENT = 5
# How far back (characters) to look for who the subject of a cue is ("my friend says she ...").
SUBJECT_LOOKBACK_CHARS = 80

# Sentence ends: . ! ? ; followed by a space, a quote or the end, and line breaks.
# "101.2" and "e.g." inside words stay whole. Written as r'[.!?;]+(?![^\s"])|\n+' but opening
# with one character class, so that re's search skips to the next candidate character in C
# instead of trying the pattern at every position (three times cheaper on a chat message).
_SENTENCE_END_RE = re.compile(r"[.!?;\n](?:(?<=\n)\n*|(?<=[.!?;])[.!?;]*(?![^\s\"]))")
_WORD_RE = re.compile(r"[a-z0-9_]+")
# The same words as _WORD_RE, found with C-level bytes operations (a regex scan of a whole
# message costs far more): every byte that is not [a-z0-9_] becomes a space, and
# encode(..., "replace") turns any non-ASCII character into "?", which becomes a space too.
_WORD_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789_")
_NON_WORD_TO_SPACE = bytes(c if c in _WORD_BYTES else 0x20 for c in range(256))
WORD_CACHE_SIZE = 50_000
# Recent messages analysed (folded, cue hits, anchor words), by text: in chat each
# message is sent once and then comes back as recent context of the same member's next few
# messages, so without this every send folded and searched up to five old messages again.
RECENT_CACHE_SIZE = 4_096


@dataclass(frozen=True, slots=True)
class _Found:
    hit: Hit
    cue: Cue
    folded: Folded


class Engine:
    """A compiled rule set. Thread-safe and reusable; build one with ``load_engine``."""

    def __init__(self, cues: Sequence[Cue], context: ContextRules, folder: Folder) -> None:
        self.cues = tuple(cues)
        self.context = context
        self._folder = folder
        # Index every top-level alternative ("part") of every cue by its anchor words.
        self._parts: list[tuple[int, Part]] = []
        by_anchor: dict[str, list[int]] = {}
        unanchored: list[int] = []
        universe: set[str] = set()
        # The groups a part needs, the one it is indexed by first.
        self._groups: list[tuple[Anchors, ...]] = []
        for i, cue in enumerate(self.cues):
            for part in cue.parts:
                index = len(self._parts)
                self._parts.append((i, part))
                if part.anchors is None:
                    unanchored.append(index)
                    self._groups.append(())
                    continue
                universe.update(part.anchors, *part.also)
                # A part is a candidate when a word of every group it needs is in the
                # sentence, whichever group indexes it; indexing it by the group least
                # likely to occur means fewer parts are looked at and turned down.
                groups = sorted((part.anchors, *part.also), key=expected_frequency)
                self._groups.append(tuple(groups))
                for anchor in groups[0]:
                    by_anchor.setdefault(anchor, []).append(index)
        self._unanchored = tuple(unanchored)
        universe.update(context.anchor_bits)
        for rule in context.all:
            universe.update(rule.anchors)
            for _, anchors in rule.parts:
                universe.update(anchors)
            for groups in rule.part_groups:
                universe.update(*groups)
        self._by_anchor = {a: tuple(v) for a, v in by_anchor.items()}
        # Each distinct further group of anchors ("also") gets one bit; a part needs the OR of
        # its groups' bits. A message has the OR of its words' bits, so "is a word of each of
        # the part's other groups present?" is one integer AND, not a loop of set tests.
        group_bits: dict[Anchors, int] = {}
        self._part_need: list[int] = []
        self._anchor_bits: dict[str, int] = {}
        for groups in self._groups:
            need = 0
            for group in groups[1:]:
                bit = group_bits.setdefault(group, 1 << len(group_bits))
                need |= bit
                for anchor in group:
                    self._anchor_bits[anchor] = self._anchor_bits.get(anchor, 0) | bit
            self._part_need.append(need)
        self._prefixes = frozenset(a for a in universe if not a.endswith(WORD_END))
        self._whole_words = frozenset(a for a in universe if a.endswith(WORD_END))
        self._prefix_lengths = tuple(sorted({len(a) for a in self._prefixes}))
        # Words seen so far, and those that satisfy an anchor. Words repeat across messages,
        # so after a short warm-up a message costs a few set operations.
        self._seen_words: set[str] = set()
        # word -> (context anchor bits it sets, (part, bits the part needs) for the parts it
        # indexes)
        self._relevant: dict[str, tuple[int, tuple[tuple[int, int], ...]]] = {}
        # word -> bits of the "also" groups it satisfies
        self._word_bits: dict[str, int] = {}
        # word -> the context anchor bits it sets (see ContextRules.anchor_bits)
        self._context_bits: dict[str, int] = {}
        self._cue_words: set[str] = set()
        # The keys of _relevant as a set: set & set runs in C far faster than set & dict keys.
        self._relevant_words: set[str] = set()
        self._stretched: set[str] = set()
        self._recent_cache: dict[str, tuple[Folded, list[_Found], set[str]]] = {}
        self._rules_for = [context.rules_for(cue) for cue in self.cues]

    def assess(self, text: str, *, recent: Iterable[str] = ()) -> Assessment:
        """Assess one message, using the same member's ``recent`` messages (oldest first).

        Raises ``AssessmentError`` for input it cannot assess; callers must then treat the
        message as needing human review, never as ``none``.
        """
        _check_text(text, "text")
        if isinstance(recent, str):
            raise AssessmentError("recent must be a sequence of messages, not one string")
        try:
            recent_list = list(recent)[-MAX_RECENT:]
        except TypeError:
            raise AssessmentError("recent must be a sequence of messages") from None
        for i, message in enumerate(recent_list):
            _check_text(message, f"recent[{i}]")

        self._bound_word_cache()
        folded = [self._fold(text)]
        current, current_keys = self._hits(folded[0], 0)
        if not current and not recent_list:
            return Assessment(Severity.NONE)
        found = list(current)
        keys = [current_keys]
        cache = self._recent_cache
        for source, message in enumerate(recent_list, start=1):
            analysed = cache.get(message)
            if analysed is None:
                old = self._fold(message)
                analysed = (old, *self._hits(old, source))
                if len(cache) >= RECENT_CACHE_SIZE:
                    cache.clear()
                cache[message] = analysed
            old, more, more_keys = analysed
            if more and more[0].hit.source != source:
                # The same message sits one place further back at each new send.
                more = [_Found(replace(f.hit, source=source), f.cue, f.folded) for f in more]
            folded.append(old)
            found.extend(more)
            keys.append(more_keys)
        if not found:
            return Assessment(Severity.NONE)
        return self._judge(folded, found, keys)

    def _judge(self, folded: list[Folded], found: list[_Found], keys: list[set[str]]) -> Assessment:
        """Apply the context rules to the cues found and combine them into one verdict."""
        texts = Texts(
            [f.text for f in folded],
            [self._present(k) for k in keys],
            lambda source, span: self._anchors_in(folded[source].word_text, span, keys[source]),
            lambda hit: self._third_party(
                folded[hit.source].text, hit.start, hit.end, hit.sentence
            ),
        )
        evaluator = ContextEvaluator(self.context, texts)
        evidence: list[Evidence] = []
        for item in found:
            cue, hit = item.cue, item.hit
            severity, category, effects = evaluator.apply(
                hit, cue.category, cue.severity, self._rules_for[hit.cue_index]
            )
            # An older message's cue only matters here if this message raised it, and a latent
            # cue (base severity none) only if context raised it (see _combine).
            if (hit.source != 0 or cue.severity is Severity.NONE) and not any(
                e.direction == "raised" for e in effects
            ):
                continue
            start, end = item.folded.to_original(hit.start, hit.end)
            evidence.append(
                Evidence(
                    start=start,
                    end=end,
                    matched=item.folded.original[start:end],
                    cue=cue.id,
                    category=category,
                    base_severity=cue.severity,
                    severity=severity,
                    context=tuple(effects),
                    source=source_label(hit.source),
                )
            )
        return _combine(evidence)

    def _bound_word_cache(self) -> None:
        # Only between assessments: words learnt for the message being assessed must stay
        # until it is judged, or a recent message's folding would drop them mid-way.
        if len(self._seen_words) >= WORD_CACHE_SIZE:
            self._seen_words.clear()
            self._relevant.clear()
            self._relevant_words.clear()
            self._word_bits.clear()
            self._context_bits.clear()
            self._cue_words.clear()
            self._stretched.clear()
            # A cached analysis refers to words learnt with the caches just cleared.
            self._recent_cache.clear()

    def _learn(self, words: set[str]) -> None:
        """Work out, once per distinct word, which anchors it satisfies and which parts."""
        for word in words:
            found = {word[:k] for k in self._prefix_lengths if k <= len(word)} & self._prefixes
            whole = word + WORD_END
            if whole in self._whole_words:
                found.add(whole)
            if found:
                parts: set[int] = set()
                for anchor in found:
                    parts.update(self._by_anchor.get(anchor, ()))
                context_bits = 0
                for anchor in found:
                    context_bits |= self.context.anchor_bits.get(anchor, 0)
                self._relevant_words.add(word)
                self._relevant[word] = (
                    context_bits,
                    tuple((p, self._part_need[p]) for p in sorted(parts)),
                )
                self._context_bits[word] = context_bits
                bits = 0
                for anchor in found:
                    bits |= self._anchor_bits.get(anchor, 0)
                self._word_bits[word] = bits
                if parts:
                    self._cue_words.add(word)
            self._seen_words.add(word)
            if has_stretch(word):
                self._stretched.add(word)

    def _fold(self, text: str) -> Folded:
        folded = self._folder.fold(text)
        word_text = _word_text(folded.text)
        words = set(word_text.split())
        unseen = words - self._seen_words
        if unseen:
            self._learn(unseen)
        if not words.isdisjoint(self._stretched):
            folded = self._folder.fold(text, squeeze=True)
            word_text = _word_text(folded.text)
            words = set(word_text.split())
            unseen = words - self._seen_words
            if unseen:
                self._learn(unseen)
        folded.words = words
        folded.word_text = word_text
        return folded

    def _hits(self, folded: Folded, source: int) -> tuple[list[_Found], set[str]]:
        """Cue matches, and the message's words that carry an anchor."""
        text = folded.text
        word_text = folded.word_text
        # Set algebra runs in C: the Python loops below only see the few words that can start
        # a cue ("kill", "pills"), never every word of the message.
        keys = folded.words & self._relevant_words
        cue_keys = keys & self._cue_words
        found: list[_Found] = []
        unanchored = self._unanchored
        if not cue_keys and not unanchored:
            return found, keys
        relevant = self._relevant
        word_bits = self._word_bits
        parts = self._parts
        cues = self.cues
        # Sentence by sentence (one C-level regex scan splits them): a match lies inside one
        # sentence, so every word it needs is there. The sentence's own words pick the parts
        # to run, far fewer than the whole message's would, and nothing needs placing.
        for sentence in _sentences(text):
            s_start, s_end = sentence
            sentence_words = word_text[s_start:s_end].split()
            cue_here = cue_keys.intersection(sentence_words)
            if not cue_here and not unanchored:
                continue
            here = keys.intersection(sentence_words)
            # A part also needs a word of each further group ("thoughts of" AND "hurting" AND
            # "baby"); most candidates fail here, before any regex runs.
            have = reduce(or_, map(word_bits.__getitem__, here), 0)
            candidates = set(unanchored)
            for word in cue_here:
                for part_index, need in relevant[word][1]:
                    if have & need == need:
                        candidates.add(part_index)
            for part_index in candidates:
                i, part = parts[part_index]
                cue = cues[i]
                quick = part.quick
                if quick is None:
                    matches: Iterable[tuple[int, int]] = (
                        m.span() for m in part.regex.finditer(text, s_start, s_end)
                    )
                else:
                    matches = _word_start_spans(quick, text, s_start, s_end)
                for start, end in matches:
                    if start == end:
                        continue
                    if cue.companions and any(
                        c.search(text, s_start, s_end) is None for c in cue.companions
                    ):
                        # An 'all' cue: every other pattern must match in this sentence too.
                        # The evidence is the first pattern's match, so context rules (a
                        # negation just before it) read it as they would a simple cue.
                        break
                    hit = Hit(i, start, end, sentence, False if cue.about_writer else None, source)
                    found.append(_Found(hit, cue, folded))
        return found, keys

    def _anchors_in(self, word_text: str, span: tuple[int, int], keys: set[str]) -> int:
        here = keys.intersection(word_text[span[0] : span[1]].split())
        return reduce(or_, map(self._context_bits.__getitem__, here), 0)

    def _present(self, keys: set[str]) -> int:
        return reduce(or_, map(self._context_bits.__getitem__, keys), 0)

    def _third_party(self, text: str, start: int, end: int, sentence: tuple[int, int]) -> bool:
        """Is the cue about someone else ("my friend says she'll kill herself")?"""
        cue_text = text[start:end]
        ctx = self.context
        # In order: a first-person word in the cue makes it hers, else a third-person word in
        # the cue makes it someone else's, else the nearest subject before it decides. The
        # checks run cheapest-to-skip first; the answer is the same.
        if ctx.third_in_cue.search(cue_text):
            return not ctx.first_person.search(cue_text)
        lookback = max(sentence[0], start - SUBJECT_LOOKBACK_CHARS)
        # The subject must be in the same clause: "i'm alone with the baby, bleeding" is hers.
        lookback = max(lookback, text.rfind(",", lookback, start) + 1)
        last_third = max(
            (m.end() for m in ctx.third_party_subject.finditer(text, lookback, start)), default=-1
        )
        if last_third == -1 or ctx.first_person.search(cue_text):
            return False
        last_first = max(
            (m.end() for m in ctx.first_person.finditer(text, lookback, start)), default=-1
        )
        return last_third > last_first

    def check_examples(self) -> list[str]:
        """Every cue's examples must match it and its counter-examples must not."""
        problems: list[str] = []
        for cue in self.cues:
            for example in cue.examples:
                if not cue_matches(cue, self._folder.fold(example, squeeze=True).text):
                    problems.append(f"{cue.source}: {cue.id}: example does not match: {example!r}")
            for example in cue.counter_examples:
                if cue_matches(cue, self._folder.fold(example, squeeze=True).text):
                    problems.append(f"{cue.source}: {cue.id}: counter-example matches: {example!r}")
        for rule in self.context.all:
            for example in rule.examples:
                if rule.regex is not None and not rule.regex.search(
                    self._folder.fold(example, squeeze=True).text
                ):
                    problems.append(
                        f"context.toml: {rule.name}: example does not match: {example!r}"
                    )
        return problems

    def fold(self, text: str) -> Folded:
        """The folded form the rules see (for debugging rules)."""
        return self._fold(text)


def _check_text(text: object, name: str) -> None:
    if not isinstance(text, str):
        raise AssessmentError(f"{name} must be a str, not {type(text).__name__}")
    if len(text) > MAX_CHARS:
        raise AssessmentError(f"{name} is {len(text)} characters; the limit is {MAX_CHARS}")


def _word_text(text: str) -> str:
    """``text`` with each character that is not [a-z0-9_] replaced by a space: its
    ``split()`` gives the words ``_WORD_RE.findall(text)`` would."""
    return text.encode("ascii", "replace").translate(_NON_WORD_TO_SPACE).decode("ascii")


def _sentences(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_END_RE.finditer(text):
        if m.start() > start:
            spans.append((start, m.start()))
        start = m.end()
    if start < len(text) or not spans:
        spans.append((start, len(text)))
    return spans


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _word_start_spans(
    quick: re.Pattern[str], text: str, pos: int, end: int
) -> list[tuple[int, int]]:
    """The spans ``finditer`` of the part's full regex gives (see wordstart.py): matches of the
    quick pattern that start a word. Most searches find nothing, so this is a list, not a
    generator (cheaper to make)."""
    spans: list[tuple[int, int]] = []
    while (m := quick.search(text, pos, end)) is not None:
        start = m.start()
        if start and _is_word_char(text[start - 1]):
            pos = start + 1
            continue
        pos = m.end()
        spans.append((start, pos))
    return spans


def _combine(evidence: list[Evidence]) -> Assessment:
    if len(evidence) == 1 and evidence[0].base_severity is not Severity.NONE:
        # One cue: nothing overlaps it, nothing to order.
        only = evidence[0]
        categories = tuple(
            c for c in RISK_CATEGORIES if c is only.category and only.severity > Severity.NONE
        )
        return Assessment(only.severity, categories, (only,))
    # A latent cue (base severity none) is only evidence if context raised it.
    evidence = [
        e
        for e in evidence
        if e.base_severity is not Severity.NONE or any(c.direction == "raised" for c in e.context)
    ]
    # Overlapping cues of one category describe one statement: keep the most severe, then the
    # longest match. The order is total so the evidence kept never depends on the order cues
    # were found in (set iteration order varies between processes).
    evidence.sort(
        key=lambda e: (
            -e.severity.rank,
            -e.base_severity.rank,
            e.start,
            -e.end,
            e.source,
            e.cue,
            e.category,
        )
    )
    kept: list[Evidence] = []
    for item in evidence:
        if any(
            k.category is item.category
            and k.source == item.source
            and k.start < item.end
            and item.start < k.end
            for k in kept
        ):
            continue
        kept.append(item)
    kept.sort(key=lambda e: (e.source != "text", e.source, e.start))
    severity = max((e.severity for e in kept), default=Severity.NONE)
    present = {e.category for e in kept if e.severity > Severity.NONE}
    categories = tuple(c for c in RISK_CATEGORIES if c in present)
    return Assessment(severity, categories, tuple(kept))


def load_engine(directory: str | Path | None = None) -> Engine:
    """Load and compile a rules directory (default: the package's own ``rules/``).

    Raises ``RulesError`` naming the file, the entry and the problem.
    """
    root = Path(directory) if directory is not None else DEFAULT_RULES_DIR
    if not root.is_dir():
        raise RulesError(f"{root}: not a directory of rule files")
    terms = load_terms(root / "terms.toml")
    lexicon = read_toml(root / "lexicon.toml")
    words = lexicon.get("words")
    emoji = lexicon.get("emoji", {})
    if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
        raise RulesError("lexicon.toml: 'words' must be a list of strings")
    if not isinstance(emoji, dict) or not all(isinstance(v, str) for v in emoji.values()):
        raise RulesError("lexicon.toml: [emoji] must map each emoji to a word")
    spellings = lexicon.get("spellings", {})
    if not isinstance(spellings, dict):
        raise RulesError("lexicon.toml: [spellings] must map each chat spelling to its words")
    for key, value in spellings.items():
        if not isinstance(value, str) or not value or value != value.lower():
            raise RulesError(f"lexicon.toml: [spellings] {key!r}: the words must be lowercase text")
        if not key or key != key.lower() or not SPELLING_KEY_RE.fullmatch(key):
            raise RulesError(
                f"lexicon.toml: [spellings] {key!r}: a spelling is one lowercase chat word "
                "(letters, digits or '/')"
            )
    context = load_context(root / "context.toml", terms)
    cues: list[Cue] = []
    files = cue_files(root)
    if not files:
        raise RulesError(f"{root}: no cue files (*.toml with [[cue]] entries)")
    for path in files:
        cues.extend(load_cues(path, terms))
    check_unique(((c.id, c.source) for c in cues), "cue")
    return Engine(cues, context, Folder(words, emoji, spellings))


_default: Engine | None = None
_default_lock = threading.Lock()


def default_engine() -> Engine:
    """The engine for the package's own rules, compiled once on first use."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = load_engine()
    return _default


def assess(text: str, *, recent: Iterable[str] = ()) -> Assessment:
    """Assess one chat message with the default rules. See ``Engine.assess``."""
    return default_engine().assess(text, recent=recent)
