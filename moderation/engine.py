"""The engine: find cues sentence by sentence, apply context, combine into one assessment."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from moderation.anchors import trie_regex
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
from moderation.normalize import Folded, Folder
from moderation.rules import (
    DEFAULT_RULES_DIR,
    Cue,
    check_unique,
    cue_files,
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

# Sentence ends: . ! ? ; followed by a space or the end, line breaks, and " - " dashes.
# "101.2" and "e.g." inside words stay whole.
_SENTENCE_END_RE = re.compile(r"[.!?;]+(?=\s|$|\")|\n+|\s-{1,2}\s")


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
        anchored: dict[str, set[int]] = {}
        self._unanchored: tuple[int, ...] = tuple(
            i for i, cue in enumerate(self.cues) if cue.anchors is None
        )
        for i, cue in enumerate(self.cues):
            for anchor in cue.anchors or ():
                anchored.setdefault(anchor, set()).add(i)
        # The trie finds the longest anchor at a position; shorter anchors that are its
        # prefixes ("kill" inside "killing") must fire too.
        self._by_anchor: dict[str, tuple[int, ...]] = {
            anchor: tuple(sorted(set().union(*(v for a, v in anchored.items()
                                                  if anchor.startswith(a)))))
            for anchor in anchored
        }
        self._anchor_re = trie_regex(anchored) if anchored else None

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

        folded = [self._folder.fold(text)]
        current = self._hits(folded[0], 0)
        if not current and not recent_list:
            return Assessment(Severity.NONE)
        folded.extend(self._folder.fold(m) for m in recent_list)
        found = list(current)
        for source in range(1, len(folded)):
            found.extend(self._hits(folded[source], source))
        if not found:
            return Assessment(Severity.NONE)
        evaluator = ContextEvaluator(self.context, Texts([f.text for f in folded]))
        evidence: list[Evidence] = []
        for item in found:
            cue, hit = item.cue, item.hit
            severity, category, effects = evaluator.apply(
                hit, cue.id, cue.category, cue.stage, cue.escalate, cue.severity
            )
            # An older message's cue only matters here if this message raised it.
            if hit.source != 0 and not any(e.direction == "raised" for e in effects):
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

    def _hits(self, folded: Folded, source: int) -> list[_Found]:
        text = folded.text
        if self._anchor_re is None:
            candidates: dict[int, None] = {}
        else:
            candidates = {}
            for m in self._anchor_re.finditer(text):
                for i in self._by_anchor[m.group()]:
                    candidates[i] = None
        for i in self._unanchored:
            candidates[i] = None
        if not candidates:
            return []
        sentences = _sentences(text)
        found: list[_Found] = []
        for i in candidates:
            cue = self.cues[i]
            for m in cue.regex.finditer(text):
                start, end = m.span()
                if start == end:
                    continue
                sentence = _sentence_of(sentences, start)
                if end > sentence[1]:
                    # A cue must not straddle a sentence end; retry inside the sentence.
                    inner = cue.regex.search(text, start, sentence[1])
                    if inner is None:
                        continue
                    start, end = inner.span()
                hit = Hit(i, start, end, sentence, self._third_party(text, start, end, sentence),
                          source)
                found.append(_Found(hit, cue, folded))
        return found

    def _third_party(self, text: str, start: int, end: int, sentence: tuple[int, int]) -> bool:
        """Is the cue about someone else ("my friend says she'll kill herself")?"""
        cue_text = text[start:end]
        ctx = self.context
        if ctx.first_person.search(cue_text):
            return False
        if ctx.third_in_cue.search(cue_text):
            return True
        lookback = max(sentence[0], start - SUBJECT_LOOKBACK_CHARS)
        last_first = max((m.end() for m in ctx.first_person.finditer(text, lookback, start)),
                         default=-1)
        last_third = max((m.end() for m in ctx.third_party_subject.finditer(text, lookback,
                                                                             start)),
                         default=-1)
        return last_third > last_first

    def check_examples(self) -> list[str]:
        """Every cue's examples must match it and its counter-examples must not."""
        problems: list[str] = []
        for cue in self.cues:
            for example in cue.examples:
                if not cue.regex.search(self._folder.fold(example).text):
                    problems.append(f"{cue.source}: {cue.id}: example does not match: {example!r}")
            for example in cue.counter_examples:
                if cue.regex.search(self._folder.fold(example).text):
                    problems.append(
                        f"{cue.source}: {cue.id}: counter-example matches: {example!r}"
                    )
        for rule in self.context.all:
            for example in rule.examples:
                if rule.regex is not None and not rule.regex.search(
                    self._folder.fold(example).text
                ):
                    problems.append(f"context.toml: {rule.name}: example does not match: "
                                    f"{example!r}")
        return problems

    def fold(self, text: str) -> Folded:
        """The folded form the rules see (for debugging rules)."""
        return self._folder.fold(text)


def _check_text(text: object, name: str) -> None:
    if not isinstance(text, str):
        raise AssessmentError(f"{name} must be a str, not {type(text).__name__}")
    if len(text) > MAX_CHARS:
        raise AssessmentError(f"{name} is {len(text)} characters; the limit is {MAX_CHARS}")


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


def _sentence_of(sentences: list[tuple[int, int]], pos: int) -> tuple[int, int]:
    for span in sentences:
        if pos < span[1]:
            return span
    return sentences[-1]


def _combine(evidence: list[Evidence]) -> Assessment:
    # Overlapping cues of one category describe one statement: keep the most severe.
    evidence.sort(key=lambda e: (-e.severity.rank, -e.base_severity.rank, e.start))
    kept: list[Evidence] = []
    for item in evidence:
        if any(k.category is item.category and k.source == item.source
               and k.start < item.end and item.start < k.end for k in kept):
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
    context = load_context(root / "context.toml", terms)
    cues: list[Cue] = []
    files = cue_files(root)
    if not files:
        raise RulesError(f"{root}: no cue files (*.toml with [[cue]] entries)")
    for path in files:
        cues.extend(load_cues(path, terms))
    check_unique(((c.id, c.source) for c in cues), "cue")
    return Engine(cues, context, Folder(words, emoji))


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


