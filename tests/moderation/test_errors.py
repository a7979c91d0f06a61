"""Input the engine cannot assess raises AssessmentError: callers route it to a human."""

from __future__ import annotations

import pytest

import moderation
from moderation import MAX_CHARS, AssessmentError, assess


@pytest.mark.parametrize("bad", [None, 42, b"i want to die", ["text"]])
def test_non_string_input_raises(bad: object) -> None:
    """Only str can be assessed."""
    with pytest.raises(AssessmentError, match="must be a str"):
        assess(bad)  # type: ignore[arg-type]


def test_absurdly_long_input_raises() -> None:
    """Over MAX_CHARS is refused, not silently truncated."""
    with pytest.raises(AssessmentError, match=f"the limit is {MAX_CHARS}"):
        assess("a" * (MAX_CHARS + 1))


def test_recent_must_be_a_sequence_of_strings() -> None:
    """A single string or a non-string in recent is refused."""
    with pytest.raises(AssessmentError, match="not one string"):
        assess("hi", recent="i want to die")  # type: ignore[arg-type]
    with pytest.raises(AssessmentError, match=r"recent\[0\] must be a str"):
        assess("hi", recent=[None])  # type: ignore[list-item]


def test_empty_message_is_none() -> None:
    """Empty text is assessable and carries nothing."""
    assert assess("").severity is moderation.Severity.NONE


def test_failure_contract_is_documented() -> None:
    """The package docstring tells callers a failure means human review."""
    assert "needs human review" in (moderation.__doc__ or "")
    assert "never as severity ``none``" in (moderation.__doc__ or "")
