"""The result types of an assessment: severity, category, evidence and the errors."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class AssessmentError(ValueError):
    """The engine could not assess this input; the caller must treat it as needing human review."""


class RulesError(ValueError):
    """A rule file is missing, malformed or names something unknown."""


@enum.unique
class Severity(enum.StrEnum):
    """How fast a clinician must know, ordered: ``NONE < LOW < MODERATE < HIGH < IMMINENT``."""

    NONE = "none"
    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"
    IMMINENT = "imminent"

    # 0 (none) to 4 (imminent); a plain attribute, set below, because the engine reads it in
    # its inner loops and a property lookup costs a Python call each time.
    rank: int

    @classmethod
    def from_rank(cls, rank: int) -> Severity:
        return _BY_RANK[max(0, min(rank, len(_BY_RANK) - 1))]

    # StrEnum would otherwise compare alphabetically ("high" < "low").
    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank >= other.rank


_BY_RANK: tuple[Severity, ...] = tuple(Severity)
for _rank, _severity in enumerate(_BY_RANK):
    _severity.rank = _rank


@enum.unique
class Category(enum.StrEnum):
    """What kind of risk a cue points to.

    ``DISTRESS`` marks general low-mood or anxiety cues (EPDS-style). It appears in evidence so a
    facilitator sees why a check-in was suggested, but never in ``Assessment.categories``, which
    lists only the seven risk categories.
    """

    SUICIDE = "suicide"
    SELF_HARM = "self_harm"
    HARM_TO_INFANT = "harm_to_infant"
    PSYCHOSIS = "psychosis"
    ABUSE = "abuse"
    SUBSTANCE = "substance"
    MEDICAL = "medical"
    DISTRESS = "distress"


RISK_CATEGORIES: tuple[Category, ...] = tuple(c for c in Category if c is not Category.DISTRESS)


@dataclass(frozen=True, slots=True)
class ContextEffect:
    """One context rule that changed a cue's severity, and the text that triggered it."""

    rule: str
    direction: str  # "lowered" or "raised"
    before: Severity
    after: Severity
    matched: str
    source: str = "text"  # "text" or "recent[i]"

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "direction": self.direction,
            "from": self.before.value,
            "to": self.after.value,
            "matched": self.matched,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class Evidence:
    """A cue found in a message: where, which rule, and every context rule that moved it.

    ``start``/``end`` index the ORIGINAL text of ``source`` ("text" for the message assessed,
    "recent[i]" for the i-th recent message).
    """

    start: int
    end: int
    matched: str
    cue: str
    category: Category
    base_severity: Severity
    severity: Severity
    context: tuple[ContextEffect, ...] = ()
    source: str = "text"

    def to_dict(self) -> dict[str, Any]:
        return {
            "span": [self.start, self.end],
            "matched": self.matched,
            "cue": self.cue,
            "category": self.category.value,
            "base_severity": self.base_severity.value,
            "severity": self.severity.value,
            "context": [c.to_dict() for c in self.context],
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class Assessment:
    """The verdict for one message: overall severity, risk categories and the evidence."""

    severity: Severity
    categories: tuple[Category, ...] = ()
    evidence: tuple[Evidence, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity.value,
            "categories": [c.value for c in self.categories],
            "evidence": [e.to_dict() for e in self.evidence],
        }
