"""Context rules: what around a cue makes it less or more worrying.

A cue ("kill myself", "hearing voices") is never judged alone. Lowering rules (negation,
hypotheticals, resolved history, someone else's past, figurative speech, quotes and media,
resource sharing, jokes) run first, in file order; a cue a lowering rule touched is never raised
again, because the words that lowered it describe the same statement. Raising rules (means,
access to means, time, plan, farewell, someone else in danger now) then lift what remains.

Every rule is data in ``context.toml``; this module only knows what each ``scope`` means:

- ``before_cue``: the pattern ends at most ``window_words`` words before the cue, in the same
  sentence, with no comma in between ("I would never hurt her");
- ``overlap``: the pattern overlaps the cue itself ("dying of embarrassment");
- ``sentence`` / ``message``: anywhere in the cue's sentence / message;
- ``conversation``: anywhere in the message or in the member's recent messages;
- ``quoted``: the cue sits inside double quotes (no pattern);
- ``always``: no pattern; the rule applies whenever its other conditions hold.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from moderation.anchors import required_sets
from moderation.assessment import Category, ContextEffect, RulesError, Severity
from moderation.rules import STAGES, Cue, compile_pattern, expand, read_toml, split_alternatives
from moderation.wordstart import WordStart, is_word

SCOPES = ("before_cue", "overlap", "sentence", "message", "conversation", "quoted", "always")
SUBJECTS = ("any", "self", "third")
RULE_FIELDS = {
    "name",
    "kind",
    "scope",
    "pattern",
    "to",
    "by",
    "applies_to",
    "stages",
    "subject",
    "min_base",
    "max_base",
    "requires",
    "requires_scope",
    "unless",
    "unless_scope",
    "window_words",
    "implies_category",
    "examples",
    "note",
    "cues",
}
NEGATION_RULE = "negation"
RAISER_NEGATION_WINDOW_WORDS = 3
_HIT_INDEPENDENT_SCOPES = frozenset({"sentence", "message", "conversation", "always"})
_SENTENCE_SCOPES = frozenset({"sentence", "before_cue", "overlap"})
_NOTHING: frozenset[str] = frozenset()
_CLAUSE_BREAK_RE = re.compile(
    r"\b(?:but|pero|though|although|except|and (?:i|im|the|my|she|he|it|we|they|then))\b"
    r"|\band\W*$"
)


@dataclass(frozen=True, slots=True)
class Hit:
    """A cue match in one folded text, with its sentence bounds."""

    cue_index: int
    start: int
    end: int
    sentence: tuple[int, int]
    # Whether the cue is about someone else; None until a rule asks (see Texts.subject).
    third_party: bool | None
    source: int  # 0 = the message assessed, i >= 1 = recent[i - 1]


@dataclass(slots=True)
class Texts:
    """The folded message and recent messages, with per-message search caches."""

    texts: Sequence[str]
    # Per message, the anchor bits of its words (see ContextRules.anchor_bits): lets a rule
    # whose words are absent be skipped without running its regex.
    present: Sequence[int] = ()
    # The anchor bits of one sentence, worked out only for sentences that hold a cue.
    anchors_in: Callable[[int, tuple[int, int]], int] | None = None
    # Who a hit is about, worked out only when a rule depends on it.
    subject: Callable[[Hit], bool] | None = None
    cache: dict[tuple[str, int], re.Match[str] | None] = field(default_factory=dict)
    _by_span: dict[tuple[int, tuple[int, int]], int] = field(default_factory=dict)

    def sentence_anchors(self, source: int, span: tuple[int, int]) -> int | None:
        if self.anchors_in is None:
            return None
        key = (source, span)
        if key not in self._by_span:
            self._by_span[key] = self.anchors_in(source, span)
        return self._by_span[key]


@dataclass(frozen=True, slots=True)
class ContextRule:
    name: str
    kind: str  # "lower" or "raise"
    scope: str
    regex: re.Pattern[str] | None
    to: Severity | None
    by: int
    applies_to: frozenset[Category]
    cues: frozenset[str]
    stages: frozenset[str]
    subject: str
    min_base: Severity
    max_base: Severity
    requires: WordStart | None
    requires_scope: str
    unless: WordStart | None
    unless_scope: str
    window_words: int
    implies_category: Category | None
    examples: tuple[str, ...]
    min_rank: int = 0
    max_rank: int = 4
    # The ranks this rule can change at all, folded with min/max_base: checked first, as ints.
    move_low: int = 0
    move_high: int = 4
    # Anchors one of which any match of ``regex`` contains: if none occurs in the message, the
    # regex cannot match and is not run (most raisers are long patterns over the whole message).
    anchors: frozenset[str] = frozenset()
    # The pattern's top-level alternatives with their own anchors: only those whose words are
    # in the sentence are run (a rule like "figurative" has dozens of idioms).
    parts: tuple[tuple[WordStart, frozenset[str]], ...] = ()

    part_groups: tuple[tuple[frozenset[str], ...], ...] = ()
    # Whether the rule looks only inside the cue's sentence (its words must be there).
    sentence_scoped: bool = False
    # Where the rule sits in ContextRules.anchor_bits (set by load_context): its own bit (0
    # without anchors); its parts' bits, one each from part_shift on, with the bits of the
    # parts that have no anchors (always run) in always_mask; per part, the bits of its
    # further word groups, all of which must be present.
    bit: int = 0
    part_shift: int = 0
    part_mask: int = 0
    always_mask: int = 0
    part_needs: tuple[int, ...] = ()

    def matches(
        self, text: str, start: int, end: int, present: int | None
    ) -> Iterator[re.Match[str]]:
        """Matches of the alternatives whose words are all in ``present`` (anchor bits of the
        text searched; None runs them all), alternative by alternative, in pattern order."""
        parts = self.parts
        if present is None:
            for regex, _ in parts:
                yield from regex.finditer(text, start, end)
            return
        chosen = ((present & self.part_mask) | self.always_mask) >> self.part_shift
        needs = self.part_needs
        while chosen:
            low = chosen & -chosen
            chosen ^= low
            index = low.bit_length() - 1
            # Every other required word group of the alternative must be present too.
            need = needs[index]
            if present & need != need:
                continue
            search = parts[index][0]
            quick = search.quick
            if quick is None:
                yield from search.regex.finditer(text, start, end)
                continue
            # WordStart.finditer, inlined: this runs for every rule a cue meets.
            pos = start
            while (m := quick.search(text, pos, end)) is not None:
                first = m.start()
                if first and is_word(text[first - 1]):
                    pos = first + 1
                    continue
                yield m
                pos = m.end()

    def target(self, severity: Severity) -> Severity:
        if self.kind == "lower":
            if self.to is not None:
                return min(severity, self.to)
            return Severity.from_rank(severity.rank - self.by)
        if self.to is not None:
            return max(severity, self.to)
        return Severity.from_rank(severity.rank + self.by)

    def concerns(self, cue: Cue) -> bool:
        """Whether this rule can ever apply to ``cue`` (checked once, at load)."""
        if self.applies_to and cue.category not in self.applies_to:
            return False
        if self.cues and cue.id not in self.cues:
            return False
        return not (self.stages and cue.stage not in self.stages)

    def can_move(self, rank: int) -> bool:
        """Skip rules that could not change this severity (saves the regex search)."""
        return self.move_low <= rank <= self.move_high


@dataclass(frozen=True, slots=True)
class ContextRules:
    lowerers: tuple[ContextRule, ...]
    raisers: tuple[ContextRule, ...]
    first_person: re.Pattern[str]
    third_in_cue: re.Pattern[str]
    third_party_subject: re.Pattern[str]
    negation: ContextRule | None
    # anchor -> the bits it sets: each rule with anchors has a bit, each of its alternatives
    # one, each distinct further word group one. A text's anchor bits are the OR over its
    # words, so "are this rule's words here?" is one integer AND.
    anchor_bits: Mapping[str, int] = field(default_factory=dict)
    # Every rule in file order; bit i of a rule mask (CueRules) stands for ordered[i], and
    # for the rules with anchors it is also the rule's bit in anchor_bits.
    ordered: tuple[ContextRule, ...] = ()
    # Rules by where their words must be: in the cue's sentence, in the cue's message, in any
    # message of the conversation; and the rules without anchors.
    sentence_mask: int = 0
    message_mask: int = 0
    conversation_mask: int = 0
    free_mask: int = 0
    # Set by the words a "someone else" subject needs (third_in_cue, third_party_subject): a
    # cue whose sentence has none of them is about the writer, without running those regexes.
    subject_bit: int = 0
    # Rules with scope "quoted": they need a double quote in the cue's message.
    quoted_mask: int = 0

    @property
    def all(self) -> tuple[ContextRule, ...]:
        return self.lowerers + self.raisers

    def rules_for(self, cue: Cue) -> CueRules:
        """The lowering and raising rules that can apply to ``cue``, by severity rank."""
        lower = [0] * len(_RANKS)
        raise_ = [0] * len(_RANKS)
        for position, rule in enumerate(self.ordered):
            if not rule.concerns(cue) or (rule.kind == "raise" and not cue.escalate):
                continue
            for rank in _RANKS:
                if not rule.min_rank <= rank <= rule.max_rank:
                    continue
                # A latent cue (rank 0) can still be dismissed by a lowering rule.
                if rule.kind == "lower" and (rank == 0 or rule.can_move(rank)):
                    lower[rank] |= 1 << position
                elif rule.kind == "raise" and rule.can_move(rank):
                    raise_[rank] |= 1 << position
        return CueRules(tuple(lower), tuple(raise_))


_RANKS = tuple(range(len(Severity)))


@dataclass(frozen=True, slots=True)
class CueRules:
    """The context rules that can apply to one cue: per severity rank (0 none .. 4 imminent)
    a mask over ContextRules.ordered of the rules that could change that rank."""

    lower: tuple[int, ...]
    raise_: tuple[int, ...]


def load_context(path: Path, terms: Mapping[str, str]) -> ContextRules:
    data = read_toml(path)
    subjects = data.get("subjects")
    if not isinstance(subjects, dict):
        raise RulesError(f"{path.name}: needs a [subjects] table")
    compiled_subjects = {}
    for key in ("first_person", "third_in_cue", "third_party_subject"):
        if not isinstance(subjects.get(key), str):
            raise RulesError(f"{path.name}: [subjects] needs a {key!r} pattern")
        compiled_subjects[key] = compile_pattern(subjects[key], terms, f"{path.name}: {key}")
    entries = data.get("rule")
    if not isinstance(entries, list) or not entries:
        raise RulesError(f"{path.name}: no [[rule]] entries")
    rules = [_rule(entry, n, path.name, terms) for n, entry in enumerate(entries, start=1)]
    names = [r.name for r in rules]
    for name in names:
        if names.count(name) > 1:
            raise RulesError(f"{path.name}: rule {name!r} is defined twice")
    rules, anchor_bits = _lay_out_bits(rules)
    subject_bit = 0
    third_sets = [
        required_sets(compiled_subjects[key].pattern)
        for key in ("third_in_cue", "third_party_subject")
    ]
    if all(third_sets):
        subject_bit = 1 << max(bits.bit_length() for bits in (*anchor_bits.values(), 1))
        for anchor in third_sets[0][0] | third_sets[1][0]:
            anchor_bits[anchor] = anchor_bits.get(anchor, 0) | subject_bit
    negation = next((r for r in rules if r.name == NEGATION_RULE), None)
    masks = {"sentence": 0, "message": 0, "conversation": 0, "free": 0}
    for position, rule in enumerate(rules):
        if not rule.anchors:
            where = "free"
        elif rule.sentence_scoped:
            where = "sentence"
        else:
            where = "conversation" if rule.scope == "conversation" else "message"
        masks[where] |= 1 << position
    return ContextRules(
        lowerers=tuple(r for r in rules if r.kind == "lower"),
        raisers=tuple(r for r in rules if r.kind == "raise"),
        negation=negation,
        anchor_bits=anchor_bits,
        ordered=tuple(rules),
        sentence_mask=masks["sentence"],
        message_mask=masks["message"],
        conversation_mask=masks["conversation"],
        free_mask=masks["free"],
        subject_bit=subject_bit,
        quoted_mask=sum(1 << i for i, rule in enumerate(rules) if rule.scope == "quoted"),
        **compiled_subjects,
    )


def _lay_out_bits(rules: list[ContextRule]) -> tuple[list[ContextRule], dict[str, int]]:
    """Give each rule, alternative and further word group its bit (see ContextRule.bit)."""
    anchor_bits: dict[str, int] = {}

    def mark(anchors: Iterable[str], bit: int) -> None:
        for anchor in anchors:
            anchor_bits[anchor] = anchor_bits.get(anchor, 0) | bit

    # Bit i is the rule at position i (file order), so masks of rules iterate in file order.
    next_bit = len(rules)
    placed: list[tuple[ContextRule, int, int, int, int]] = []
    for position, rule in enumerate(rules):
        bit = 0
        if rule.anchors:
            bit = 1 << position
            mark(rule.anchors, bit)
        shift, part_mask, always_mask = next_bit, 0, 0
        for i, (_, anchors) in enumerate(rule.parts):
            part_bit = 1 << (shift + i)
            part_mask |= part_bit
            if anchors:
                mark(anchors, part_bit)
            else:
                always_mask |= part_bit
        next_bit += len(rule.parts)
        placed.append((rule, bit, shift, part_mask, always_mask))
    group_bits: dict[frozenset[str], int] = {}
    laid_out: list[ContextRule] = []
    for rule, bit, shift, part_mask, always_mask in placed:
        needs: list[int] = []
        for groups in rule.part_groups:
            need = 0
            for group in groups:
                if group not in group_bits:
                    group_bits[group] = 1 << next_bit
                    next_bit += 1
                    mark(group, group_bits[group])
                need |= group_bits[group]
            needs.append(need)
        laid_out.append(
            replace(
                rule,
                bit=bit,
                part_shift=shift,
                part_mask=part_mask,
                always_mask=always_mask,
                part_needs=tuple(needs),
            )
        )
    return laid_out, anchor_bits


def _rule(
    entry: dict[str, Any], number: int, filename: str, terms: Mapping[str, str]
) -> ContextRule:
    name = entry.get("name") if isinstance(entry.get("name"), str) else "?"
    where = f"{filename}: rule #{number} ({name})"
    extra = set(entry) - RULE_FIELDS
    if extra:
        raise RulesError(f"{where}: unknown field {sorted(extra)[0]!r}")
    for key in ("name", "kind", "scope"):
        if not isinstance(entry.get(key), str):
            raise RulesError(f"{where}: missing field {key!r}")
    kind, scope = entry["kind"], entry["scope"]
    if kind not in ("lower", "raise"):
        raise RulesError(f"{where}: unknown kind {kind!r} (expected lower or raise)")
    if scope not in SCOPES:
        raise RulesError(f"{where}: unknown scope {scope!r} (expected one of: {', '.join(SCOPES)})")
    needs_pattern = scope not in ("quoted", "always")
    if needs_pattern and not isinstance(entry.get("pattern"), str):
        raise RulesError(f"{where}: missing field 'pattern'")
    if ("to" in entry) == ("by" in entry):
        raise RulesError(f"{where}: give exactly one of 'to' (a severity) or 'by' (levels)")

    def severity(key: str, default: Severity) -> Severity:
        if key not in entry:
            return default
        try:
            return Severity(entry[key])
        except ValueError:
            allowed = ", ".join(s.value for s in Severity)
            raise RulesError(
                f"{where}: unknown severity {entry[key]!r} in {key!r} (expected one of: {allowed})"
            ) from None

    def category(value: Any) -> Category:
        try:
            return Category(value)
        except ValueError:
            allowed = ", ".join(c.value for c in Category)
            raise RulesError(
                f"{where}: unknown category {value!r} (expected one of: {allowed})"
            ) from None

    def optional_regex(key: str) -> WordStart | None:
        if key not in entry:
            return None
        return WordStart(compile_pattern(entry[key], terms, f"{where} {key}"))

    for key in ("requires_scope", "unless_scope"):
        if entry.get(key, "sentence") not in ("sentence", "message", "conversation"):
            raise RulesError(f"{where}: {key!r} must be sentence, message or conversation")
    stages = frozenset(entry.get("stages", ()))
    if not stages <= set(STAGES):
        raise RulesError(f"{where}: unknown stage in {sorted(stages - set(STAGES))}")
    subject = entry.get("subject", "any")
    if subject not in SUBJECTS:
        raise RulesError(f"{where}: unknown subject {subject!r} (expected any, self or third)")
    by = entry.get("by", 0)
    if not isinstance(by, int) or by < 0:
        raise RulesError(f"{where}: 'by' must be a positive whole number of levels")
    examples = entry.get("examples", [])
    if not isinstance(examples, list) or not all(isinstance(e, str) for e in examples):
        raise RulesError(f"{where}: 'examples' must be a list of strings")
    return ContextRule(
        name=entry["name"],
        kind=kind,
        scope=scope,
        regex=compile_pattern(entry["pattern"], terms, where) if needs_pattern else None,
        to=severity("to", Severity.NONE) if "to" in entry else None,
        by=by,
        applies_to=frozenset(category(c) for c in entry.get("applies_to", ())),
        cues=frozenset(entry.get("cues", ())),
        stages=stages,
        subject=subject,
        min_base=severity("min_base", Severity.NONE),
        max_base=severity("max_base", Severity.IMMINENT),
        requires=optional_regex("requires"),
        requires_scope=entry.get("requires_scope", "sentence"),
        unless=optional_regex("unless"),
        unless_scope=entry.get("unless_scope", "sentence"),
        window_words=int(entry.get("window_words", 4)),
        implies_category=category(entry["implies_category"])
        if "implies_category" in entry
        else None,
        examples=tuple(examples),
        anchors=_required_anchors(entry["pattern"], terms) if needs_pattern else frozenset(),
        parts=(parts := _parts(entry["pattern"], terms, where) if needs_pattern else ()),
        part_groups=tuple(tuple(required_sets(regex.pattern)[1:4]) for regex, _ in parts),
        sentence_scoped=scope in _SENTENCE_SCOPES,
        min_rank=(min_rank := severity("min_base", Severity.NONE).rank),
        max_rank=(max_rank := severity("max_base", Severity.IMMINENT).rank),
        move_low=max(min_rank, _move_range(kind, entry, severity)[0]),
        move_high=min(max_rank, _move_range(kind, entry, severity)[1]),
    )


def _parts(
    pattern: str, terms: Mapping[str, str], where: str
) -> tuple[tuple[WordStart, frozenset[str]], ...]:
    parts = []
    for alternative in split_alternatives(expand(pattern, terms, where)):
        compiled = rf"\b(?:{alternative})\b"
        sets = required_sets(compiled)
        parts.append((WordStart(re.compile(compiled)), sets[0] if sets else frozenset()))
    return tuple(parts)


def _move_range(kind: str, entry: dict[str, Any], severity: Any) -> tuple[int, int]:
    """Lowest and highest severity rank a rule can change."""
    if "to" in entry:
        target = severity("to", Severity.NONE).rank
        return (target + 1, 4) if kind == "lower" else (0, target - 1)
    return (1, 4) if kind == "lower" else (0, 3)


def _required_anchors(pattern: str, terms: Mapping[str, str]) -> frozenset[str]:
    sets = required_sets(rf"\b(?:{expand(pattern, terms, 'context')})\b")
    return sets[0] if sets else frozenset()


def source_label(source: int) -> str:
    """How evidence names the message it came from: "text" or "recent[i]"."""
    return "text" if source == 0 else f"recent[{source - 1}]"


class ContextEvaluator:
    """Applies the context rules to the hits of one message (and its recent messages)."""

    def __init__(self, rules: ContextRules, texts: Texts) -> None:
        self.rules = rules
        self.texts = texts
        self._results: dict[tuple[Any, ...], tuple[int, str] | None] = {}
        self._presence: dict[tuple[Any, ...], bool] = {}

    def apply(
        self, hit: Hit, category: Category, base: Severity, cue_rules: CueRules
    ) -> tuple[Severity, Category, list[ContextEffect]]:
        severity = base
        effects: list[ContextEffect] = []
        texts = self.texts
        rules = self.rules
        ordered = rules.ordered
        known: list[bool] = []

        present = texts.present
        in_message = present[hit.source] if hit.source < len(present) else None
        in_sentence = texts.sentence_anchors(hit.source, hit.sentence)

        def third_party() -> bool:
            if not known:
                if hit.third_party is not None:
                    known.append(hit.third_party)
                elif (
                    in_sentence is not None
                    and rules.subject_bit
                    and not in_sentence & rules.subject_bit
                ):
                    # No word in the sentence can name someone else: no regex need run.
                    known.append(False)
                else:
                    known.append(texts.subject(hit) if texts.subject is not None else False)
            return known[0]

        # The rules whose words are where they look (all rules when that is unknown): the
        # others cannot match and are never visited.
        if in_message is None or in_sentence is None:
            usable = -1
        else:
            usable = (
                (in_sentence & rules.sentence_mask)
                | (in_message & (rules.message_mask | rules.conversation_mask))
                | rules.free_mask
            )
        if '"' not in texts.texts[hit.source]:
            # A "quoted" rule needs an opening quote before the cue: none can match here.
            usable &= ~rules.quoted_mask
        rank = severity.rank
        # Lowering rules in file order, each only if it could change the current rank.
        # A latent cue (base none) is still dismissed by a lowering rule ("I'm not going to
        # do it"), so nothing can raise it afterwards.
        lower = cue_rules.lower
        mask = lower[rank] & usable
        while mask:
            low = mask & -mask
            mask ^= low
            rule = ordered[low.bit_length() - 1]
            if rule.subject != "any" and (rule.subject == "third") != third_party():
                continue
            matched = self._find(rule, hit, (hit.source,), in_sentence)
            if matched is None:
                continue
            new = rule.target(severity)
            if rank == 0:
                effects.append(
                    ContextEffect(
                        rule.name,
                        "lowered",
                        severity,
                        severity,
                        matched[1],
                        source_label(matched[0]),
                    )
                )
                break
            if new < severity:
                effects.append(
                    ContextEffect(
                        rule.name, "lowered", severity, new, matched[1], source_label(matched[0])
                    )
                )
                severity = new
                rank = new.rank
                # The later rules that could change the new rank.
                mask = lower[rank] & usable & ~((low << 1) - 1)
            if severity is Severity.NONE:
                break
        if effects:
            return severity, category, effects
        # A raiser found in another message only counts when one side is the current message:
        # an old cue already got its own verdict when it was sent.
        sources = tuple(range(len(texts.texts))) if hit.source == 0 else (0,)
        if in_message is None or any(source >= len(present) for source in sources):
            usable = -1
        else:
            conversation = 0
            for source in sources:
                conversation |= present[source]
            usable = (
                (in_message & (rules.sentence_mask | rules.message_mask))
                | (conversation & rules.conversation_mask)
                | rules.free_mask
            )
        raise_ = cue_rules.raise_
        mask = raise_[rank] & usable
        while mask:
            low = mask & -mask
            mask ^= low
            rule = ordered[low.bit_length() - 1]
            if rule.subject != "any" and (rule.subject == "third") != third_party():
                continue
            matched = self._find(rule, hit, sources, in_sentence)
            if matched is None:
                continue
            where, text = matched
            new = rule.target(severity)
            if new > severity:
                effects.append(
                    ContextEffect(rule.name, "raised", severity, new, text, source_label(where))
                )
                severity = new
                rank = new.rank
                mask = raise_[rank] & usable & ~((low << 1) - 1)
                if rule.implies_category is not None and category is Category.DISTRESS:
                    category = rule.implies_category
        return severity, category, effects

    # -- matching -------------------------------------------------------------------------------

    def _find(
        self, rule: ContextRule, hit: Hit, sources: tuple[int, ...], here: int | None
    ) -> tuple[int, str] | None:
        """Where (which message) and what text triggers ``rule`` for ``hit``, or None."""
        if rule.scope in _HIT_INDEPENDENT_SCOPES:
            # Several cues in one sentence ask the same question; answer it once.
            key = (rule.name, hit.source, hit.sentence, sources)
            try:
                return self._results[key]
            except KeyError:
                result = self._find_uncached(rule, hit, sources, here)
                self._results[key] = result
                return result
        return self._find_uncached(rule, hit, sources, here)

    def _find_uncached(
        self, rule: ContextRule, hit: Hit, sources: tuple[int, ...], here: int | None
    ) -> tuple[int, str] | None:
        """``here``: the anchor bits of the hit's sentence (Texts.sentence_anchors)."""
        if rule.anchors and rule.scope != "conversation" and not self._may_match(rule, hit.source):
            return None
        text = self.texts.texts[hit.source]
        s_start, s_end = hit.sentence
        found: tuple[int, str] | None = None
        if rule.scope == "always":
            found = (hit.source, "")
        elif rule.scope == "quoted":
            if text.count('"', 0, hit.start) % 2 == 1 and '"' in text[hit.end :]:
                found = (hit.source, '"' + text[hit.start : hit.end] + '"')
        elif rule.scope == "before_cue":
            matches = rule.matches(text, s_start, hit.start, here)
            before = self._before(matches, text, hit.start, rule.window_words)
            found = None if before is None else (hit.source, before)
        elif rule.scope == "overlap":
            for m in rule.matches(text, s_start, s_end, here):
                if m.start() < hit.end and m.end() > hit.start:
                    found = (hit.source, m.group())
                    break
        elif rule.scope == "sentence":
            m = next(rule.matches(text, s_start, s_end, here), None)
            found = None if m is None else (hit.source, m.group())
        else:  # message / conversation
            scope_sources = sources if rule.scope == "conversation" else (hit.source,)
            for source in scope_sources:
                m = self._search_message(rule, source)
                if m is not None:
                    found = (source, m.group())
                    break
        if found is None:
            return None
        if rule.requires is not None and not self._present(rule.requires, rule.requires_scope, hit):
            return None
        if rule.unless is not None and self._present(rule.unless, rule.unless_scope, hit):
            return None
        return found

    def _may_match(self, rule: ContextRule, source: int) -> bool:
        present = self.texts.present
        return source >= len(present) or not rule.bit or bool(present[source] & rule.bit)

    def _present(self, regex: WordStart, scope: str, hit: Hit) -> bool:
        if scope == "sentence":
            key = (regex, hit.source, hit.sentence)
            try:
                return self._presence[key]
            except KeyError:
                found = regex.search(self.texts.texts[hit.source], *hit.sentence) is not None
                self._presence[key] = found
                return found
        # A whole message (or all of them) gives the same answer for every cue: ask once.
        conversation = scope == "conversation"
        key = (regex, -1 if conversation else hit.source, None)
        try:
            return self._presence[key]
        except KeyError:
            pass
        texts = self.texts.texts
        sources = range(len(texts)) if conversation else (hit.source,)
        found = False
        for source in sources:
            if regex.search(texts[source]) is not None:
                found = True
                break
        self._presence[key] = found
        return found

    def _search_message(self, rule: ContextRule, source: int) -> re.Match[str] | None:
        key = (rule.name, source)
        if key in self.texts.cache:
            return self.texts.cache[key]
        if rule.anchors and not self._may_match(rule, source):
            self.texts.cache[key] = None
            return None
        text = self.texts.texts[source]
        result = None
        present = self.texts.present[source] if source < len(self.texts.present) else None
        # Only the alternatives whose words are in the message are run.
        for m in rule.matches(text, 0, len(text), present):
            if rule.kind == "raise" and self._negated(text, m.start()):
                continue  # "I don't have a plan"
            result = m
            break
        self.texts.cache[key] = result
        return result

    def _negated(self, text: str, pos: int) -> bool:
        negation = self.rules.negation
        if negation is None:
            return False
        start = max(0, pos - 40)
        window = RAISER_NEGATION_WINDOW_WORDS
        matches = negation.matches(text, start, pos, None)
        return self._before(matches, text, pos, window) is not None

    @staticmethod
    def _before(
        matches: Iterable[re.Match[str]], text: str, end: int, window_words: int
    ) -> str | None:
        """The match closest before ``end`` if no clause break separates it from ``end``."""
        last = None
        for m in matches:
            if last is None or m.end() > last.end():
                last = m
        if last is None:
            return None
        gap = text[last.end() : end]
        # A comma or a "but" starts a new clause: "he doesn't hit me but he punches walls".
        if "," in gap or _CLAUSE_BREAK_RE.search(gap) or len(gap.split()) > window_words:
            return None
        return last.group()
