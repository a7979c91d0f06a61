"""Village risk engine: decide, for each chat message, whether a clinician must know and how fast.

A pure library: no I/O at import or assessment time, no dependency on the chat server (``app``),
standard library only. Rules and word lists live in ``moderation/rules/*.toml`` where clinicians
can read and edit them.

    >>> from moderation import assess, Severity
    >>> result = assess("i have the pills counted out")
    >>> result.severity >= Severity.HIGH
    True

Failure contract: ``assess`` raises ``AssessmentError`` for input it cannot assess (not a str,
longer than ``MAX_CHARS``), and ``load_engine`` raises ``RulesError`` for a broken rule file.
Callers MUST treat any failure as "needs human review", never as severity ``none``.
"""

from moderation.assessment import (
    Assessment,
    AssessmentError,
    Category,
    ContextEffect,
    Evidence,
    RulesError,
    Severity,
)
from moderation.engine import MAX_CHARS, Engine, assess, default_engine, load_engine

__all__ = [
    "MAX_CHARS",
    "Assessment",
    "AssessmentError",
    "Category",
    "ContextEffect",
    "Engine",
    "Evidence",
    "RulesError",
    "Severity",
    "assess",
    "default_engine",
    "load_engine",
]
