"""Load, validate and compile the rule files a clinician edits.

A rules directory holds:

- ``terms.toml``: shared vocabulary, used inside patterns as ``{name}``;
- ``lexicon.toml``: words to restore from obfuscation, and emoji spelled as words;
- ``context.toml``: the context rules that lower or raise a cue (see ``context.py``);
- every other ``*.toml``: cues, one ``[[cue]]`` table each.

Everything is validated at load time; a mistake raises ``RulesError`` naming the file, the entry
and the problem, so a bad edit fails at startup rather than silently missing a mother at risk.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moderation.anchors import Anchors, required_prefixes, required_sets
from moderation.assessment import Category, RulesError, Severity
from moderation.wordstart import quick_pattern

DEFAULT_RULES_DIR = Path(__file__).with_name("rules")
SPECIAL_FILES = ("terms.toml", "lexicon.toml", "context.toml")

STAGES = (
    "distress",
    "intrusive",
    "passive",
    "ideation",
    "method",
    "intent",
    "plan",
    "behaviour",
    "sign",
    "threat",
)
CUE_FIELDS = {
    "id": "required: unique name, e.g. suicide.active_ideation",
    "pattern": "required (or 'all'): regular expression over folded text",
    "all": "instead of 'pattern': a list of patterns that must all match in one sentence",
    "category": "required: " + ", ".join(c.value for c in Category),
    "severity": "required: " + ", ".join(s.value for s in Severity),
    "examples": "required: messages this cue must match",
    "counter_examples": "optional: messages it must not match",
    "stage": "optional: " + ", ".join(STAGES),
    "escalate": "optional: whether means/time/plan/farewell may raise it",
    "note": "optional: clinical rationale",
    "about_writer": "optional: true when the cue is always about the writer (done to her)",
}
_TERM_RE = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
_GAP_SPACE_RE = re.compile(r"(\{gap\w*\}) +")
_MAX_TERM_DEPTH = 6
# Categories whose cues raisers may lift by default (others must opt in with escalate = true).
_ESCALATE_BY_DEFAULT = {
    Category.SUICIDE,
    Category.SELF_HARM,
    Category.HARM_TO_INFANT,
    Category.ABUSE,
}


@dataclass(frozen=True, slots=True)
class Part:
    """One top-level alternative of a cue pattern, with the words that index it."""

    regex: re.Pattern[str]
    anchors: Anchors | None
    # Further required groups of anchors: one word of each must also occur in the message
    # before the regex is worth running.
    also: tuple[Anchors, ...] = ()
    # ``regex`` without its leading \b, so re can skip ahead (see wordstart.py); None when
    # that is not provably the same.
    quick: re.Pattern[str] | None = None


def make_part(alternative: str, companion_sets: tuple[Anchors, ...] = ()) -> Part:
    pattern = rf"\b(?:{alternative})\b"
    sets = required_sets(pattern)
    regex = re.compile(pattern)
    quick = quick_pattern(regex)
    if not sets:
        return Part(regex, None, quick=quick)
    return Part(regex, sets[0], (*companion_sets, *sets[1:4]), quick)


@dataclass(frozen=True, slots=True)
class Cue:
    """One compiled cue: a pattern that points to a category at a base severity."""

    id: str
    category: Category
    severity: Severity
    regex: re.Pattern[str]
    anchors: Anchors | None
    # The pattern's top-level alternatives, each compiled with its own anchors, so a cue with
    # twenty ways of saying something only runs the ways whose words are in the message.
    parts: tuple[Part, ...]
    # For an 'all' cue, the further patterns that must match in the same sentence.
    companions: tuple[re.Pattern[str], ...]
    stage: str
    escalate: bool
    examples: tuple[str, ...]
    counter_examples: tuple[str, ...]
    source: str
    # Rejection or discrimination names someone else as the actor ("they won't baptise the
    # baby"), but the one it happens to is the writer: never read it as someone else's risk.
    about_writer: bool = False


def cue_matches(cue: Cue, text: str) -> bool:
    """Does ``cue`` match the folded ``text`` (all patterns, for an 'all' cue)?"""
    return cue.regex.search(text) is not None and all(
        c.search(text) is not None for c in cue.companions
    )


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise RulesError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{path}: not valid TOML: {exc}") from None


def load_terms(path: Path) -> dict[str, str]:
    data = read_toml(path)
    terms = data.get("terms")
    if not isinstance(terms, dict):
        raise RulesError(f"{path}: needs a [terms] table")
    for name, value in terms.items():
        if not isinstance(value, str):
            raise RulesError(f"{path}: term {name!r}: must be a string")
    return terms


def expand(pattern: str, terms: Mapping[str, str], where: str) -> str:
    """Substitute ``{term}`` references and make a space match any run of non-letters.

    A ``{gap...}`` term already ends in a separator, so the space written after it is dropped:
    ``want {gap} die`` reads naturally and still matches "want to die".
    """
    pattern = _GAP_SPACE_RE.sub(r"\1", pattern)
    for _ in range(_MAX_TERM_DEPTH):
        unknown = [n for n in _TERM_RE.findall(pattern) if n not in terms]
        if unknown:
            raise RulesError(f"{where}: unknown term {{{unknown[0]}}} (not in terms.toml)")
        new = _TERM_RE.sub(lambda m: f"(?:{terms[m.group(1)]})", pattern)
        if new == pattern:
            break
        pattern = new
    else:
        raise RulesError(f"{where}: terms nest too deeply (a term refers to itself?)")
    return _spaces_to_gaps(pattern)


def _spaces_to_gaps(pattern: str) -> str:
    """A space in a rule means "one or more spaces or punctuation" (outside [...] classes);
    a space followed by ``?`` means "maybe a separator"."""
    out: list[str] = []
    in_class = False
    escaped = False
    for ch in pattern:
        if escaped:
            out.append(ch)
            escaped = False
        elif ch == "\\":
            out.append(ch)
            escaped = True
        elif in_class:
            out.append(ch)
            in_class = ch != "]"
        elif ch == "[":
            out.append(ch)
            in_class = True
        elif ch == " ":
            if not out or out[-1] != r"\W+":
                out.append(r"\W+")
        elif ch == "?" and out and out[-1] == r"\W+":
            # "self ?harm": an optional separator, so "selfharm" matches too (a lazy "\W+?"
            # would still demand one).
            out[-1] = r"\W*"
        else:
            out.append(ch)
    return "".join(out)


def compile_pattern(pattern: str, terms: Mapping[str, str], where: str) -> re.Pattern[str]:
    expanded = expand(pattern, terms, where)
    try:
        return re.compile(rf"\b(?:{expanded})\b")
    except re.error as exc:
        raise RulesError(f"{where}: pattern is not a valid regular expression: {exc}") from None


def split_alternatives(pattern: str) -> list[str]:
    """Split a regex at its top-level ``|`` (outside groups and character classes).

    An alternative that is one whole group, ``(?:a|b)``, is split again.
    """
    parts = _split_top(pattern)
    result: list[str] = []
    for part in parts:
        inner = _unwrap(part)
        if inner is not None and len(_split_top(inner)) > 1:
            result.extend(split_alternatives(inner))
        else:
            result.append(part)
    return result


def _structural(pattern: str) -> Iterator[tuple[int, str, int]]:
    """(index, char, depth after it) for each character outside escapes and [...] classes."""
    depth = 0
    escaped = False
    in_class = False
    for i, ch in enumerate(pattern):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        else:
            depth += (ch == "(") - (ch == ")")
            yield i, ch, depth


def _unwrap(part: str) -> str | None:
    """The inside of ``(?:...)`` if ``part`` is exactly one such group, else None."""
    if not (part.startswith("(?:") and part.endswith(")")):
        return None
    for i, ch, depth in _structural(part):
        if ch == ")" and depth == 0 and i != len(part) - 1:
            return None
    return part[3:-1]


def _split_top(pattern: str) -> list[str]:
    parts: list[str] = []
    start = 0
    for i, ch, depth in _structural(pattern):
        if ch == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
    parts.append(pattern[start:])
    return parts


def _string_list(value: Any, where: str, name: str, required: bool) -> tuple[str, ...]:
    if value is None:
        if required:
            raise RulesError(f"{where}: missing field {name!r}")
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RulesError(f"{where}: {name!r} must be a list of strings")
    if required and not value:
        raise RulesError(f"{where}: {name!r} needs at least one example")
    return tuple(value)


def _enum(kind: type[Category] | type[Severity], value: Any, where: str, name: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(v.value for v in kind)
        raise RulesError(
            f"{where}: unknown {name} {value!r} (expected one of: {allowed})"
        ) from None


def load_cues(path: Path, terms: Mapping[str, str]) -> list[Cue]:
    data = read_toml(path)
    entries = data.get("cue")
    if not isinstance(entries, list) or not entries:
        raise RulesError(f"{path}: no [[cue]] entries")
    unknown_top = set(data) - {"cue"}
    if unknown_top:
        raise RulesError(f"{path}: unexpected top-level key {sorted(unknown_top)[0]!r}")
    cues: list[Cue] = []
    for number, entry in enumerate(entries, start=1):
        name = entry.get("id") if isinstance(entry.get("id"), str) else "?"
        where = f"{path.name}: cue #{number} ({name})"
        if "all" in entry and "pattern" not in entry:
            together = _string_list(entry["all"], where, "all", True)
            if len(together) < 2:
                raise RulesError(f"{where}: 'all' needs at least two patterns")
            entry = {**entry, "pattern": together[0]}
        elif "all" in entry:
            raise RulesError(f"{where}: give either 'pattern' or 'all', not both")
        else:
            together = ()
        for key in ("id", "pattern", "category", "severity"):
            if key not in entry:
                raise RulesError(f"{where}: missing field {key!r}")
            if not isinstance(entry[key], str):
                raise RulesError(f"{where}: {key!r} must be a string")
        extra = set(entry) - set(CUE_FIELDS)
        if extra:
            raise RulesError(f"{where}: unknown field {sorted(extra)[0]!r}")
        category = _enum(Category, entry["category"], where, "category")
        severity = _enum(Severity, entry["severity"], where, "severity")
        stage = entry.get("stage", "ideation")
        if stage not in STAGES:
            raise RulesError(
                f"{where}: unknown stage {stage!r} (expected one of: " + ", ".join(STAGES) + ")"
            )
        escalate = entry.get("escalate", category in _ESCALATE_BY_DEFAULT)
        if not isinstance(escalate, bool):
            raise RulesError(f"{where}: 'escalate' must be true or false")
        about_writer = entry.get("about_writer", False)
        if not isinstance(about_writer, bool):
            raise RulesError(f"{where}: 'about_writer' must be true or false")
        expanded = expand(entry["pattern"], terms, where)
        regex = compile_pattern(entry["pattern"], terms, where)
        companions = tuple(compile_pattern(p, terms, where) for p in together[1:])
        # A companion pattern is required too: its words join the part's "also" groups.
        companion_sets = tuple(
            sets[0]
            for p in together[1:]
            if (sets := required_sets(rf"\b(?:{expand(p, terms, where)})\b"))
        )
        parts = tuple(make_part(alt, companion_sets) for alt in split_alternatives(expanded))
        cues.append(
            Cue(
                id=entry["id"],
                category=category,
                severity=severity,
                regex=regex,
                anchors=required_prefixes(rf"\b(?:{expanded})\b"),
                parts=parts,
                companions=companions,
                stage=stage,
                escalate=escalate,
                examples=_string_list(entry.get("examples"), where, "examples", True),
                counter_examples=_string_list(
                    entry.get("counter_examples"), where, "counter_examples", False
                ),
                source=path.name,
                about_writer=about_writer,
            )
        )
    return cues


def cue_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.toml") if p.name not in SPECIAL_FILES)


def check_unique(ids: Iterable[tuple[str, str]], kind: str) -> None:
    seen: dict[str, str] = {}
    for ident, source in ids:
        if ident in seen:
            raise RulesError(f"{source}: {kind} {ident!r} is defined twice (also in {seen[ident]})")
        seen[ident] = source
