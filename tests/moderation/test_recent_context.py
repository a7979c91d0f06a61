"""The same member's recent messages change what a new message means."""

from __future__ import annotations

from moderation import Severity, assess


def severity_of(text: str, recent: tuple[str, ...] = ()) -> Severity:
    return assess(text, recent=recent).severity


def test_pills_after_cant_do_this_anymore_is_imminent() -> None:
    """'I can't do this anymore' then 'I have the pills' is worse than either alone."""
    assert severity_of("i cant do this anymore") is Severity.MODERATE
    assert severity_of("i have the pills") is Severity.NONE
    result = assess("i have the pills", recent=("i cant do this anymore",))
    assert result.severity is Severity.IMMINENT
    raised = [e for e in result.evidence if e.source == "recent[0]"]
    assert raised and raised[0].context[0].rule == "means_at_hand"


def test_time_in_a_new_message_raises_earlier_intent() -> None:
    """'tonight' following 'I'm going to end it all' is an emergency."""
    result = assess("its tonight", recent=("i'm going to end it all",))
    assert result.severity is Severity.IMMINENT


def test_old_risk_alone_does_not_repeat() -> None:
    """A risky earlier message does not make an ordinary reply risky."""
    result = assess("thanks everyone, going to feed her now", recent=("i want to die",))
    assert result.severity is Severity.NONE


def test_means_in_recent_message_raises_new_ideation() -> None:
    """New ideation after a message about the means."""
    result = assess("i want to die", recent=("i have the pills",))
    assert result.severity is Severity.IMMINENT


def test_veiled_intent_is_nothing_alone_but_an_emergency_with_the_means() -> None:
    """'I'm going to do it' says nothing alone; after 'I have the pills' it is an emergency."""
    alone = assess("i'm going to do it")
    assert alone.severity is Severity.NONE
    assert alone.evidence == ()
    assert severity_of("i'm going to do it", recent=("i have the pills",)) is Severity.IMMINENT


def test_denied_veiled_intent_is_not_raised() -> None:
    """'I'm not going to do it' is not raised by pills mentioned elsewhere."""
    result = assess("i'm not going to do it", recent=("i have the pills",))
    assert result.severity is Severity.NONE
