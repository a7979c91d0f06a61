"""Evidence: where in the original text, which cue, and why it was raised or lowered."""

from __future__ import annotations

import dataclasses
import json

import pytest

from moderation import Assessment, Category, Evidence, Severity, assess


def test_risk_buried_in_a_long_message_points_to_the_right_place() -> None:
    """The span of the cue indexes the original, even after emoji and apostrophes."""
    text = (
        "ok so update 💛 we moved bedtime to 7 and she's doing better, my mom came over "
        "sunday and helped with laundry which was nice. honestly though i keep thinking about "
        "killing myself when everyone's asleep and i don't know what to do with that. "
        "anyway does anyone have a good swaddle for an escape artist?"
    )
    result = assess(text)
    assert result.severity >= Severity.HIGH
    for evidence in result.evidence:
        assert text[evidence.start : evidence.end] == evidence.matched
    where = text.index("killing myself")
    assert any(e.start <= where < e.end for e in result.evidence if e.severity >= Severity.HIGH)


def test_each_sentence_is_assessed_on_its_own() -> None:
    """A negation in one sentence does not cancel a cue in the next."""
    result = assess("i would never hurt her. i want to die")
    assert result.severity >= Severity.HIGH


def test_several_categories_in_one_message() -> None:
    """A message may carry several categories, in a fixed order."""
    result = assess("he hit me again last night. i've been drinking every night to cope")
    assert result.categories == (Category.ABUSE, Category.SUBSTANCE)


def test_evidence_records_each_context_rule() -> None:
    """A raised cue lists the rule, direction, before and after severities."""
    result = assess("i want to kill myself tonight")
    evidence = next(e for e in result.evidence if e.category is Category.SUICIDE)
    effect = next(c for c in evidence.context if c.rule == "time")
    assert (effect.direction, effect.before, effect.after) == (
        "raised",
        Severity.HIGH,
        Severity.IMMINENT,
    )
    assert effect.matched == "tonight"


def test_lowered_cues_stay_in_the_evidence() -> None:
    """A dismissed cue is kept (severity none) so the reasoning is visible."""
    result = assess("im not suicidal at all")
    assert result.severity is Severity.NONE
    assert any(e.context and e.severity is Severity.NONE for e in result.evidence)


def test_assessment_and_evidence_are_frozen() -> None:
    """Results are immutable values."""
    result = assess("i want to die")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.severity = Severity.NONE  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.evidence[0].start = 0  # type: ignore[misc]
    assert isinstance(result, Assessment)
    assert isinstance(result.evidence[0], Evidence)


def test_to_dict_is_json_ready() -> None:
    """to_dict gives plain JSON types with spans, cue ids and rule names."""
    data = assess("i want to kill myself tonight").to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["severity"] == "imminent"
    assert data["categories"] == ["suicide"]
    evidence = data["evidence"][0]
    assert set(evidence) >= {"span", "matched", "cue", "category", "severity", "context"}
    assert evidence["context"][0]["rule"] == "time"
