"""The same member's recent messages change what a new message means."""

from __future__ import annotations

import pytest

from moderation import Category, Severity, assess


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


def test_a_full_word_cache_never_breaks_an_assessment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine forgets its learnt words when its cache is full. Filling it while a recent
    message is folded used to drop the current message's words and crash the context step
    (KeyError, not even an AssessmentError): the message must get the same verdict as on a
    fresh engine."""
    from moderation import engine as engine_module

    text = "i have the pills counted out on the counter"
    recent = ("i cant do this anymore", "nobody would even notice if i was gone")
    expected = engine_module.default_engine().assess(text, recent=recent)
    fresh = engine_module.load_engine()
    fresh.assess("hello everyone")  # a few words learnt: the bound below is crossed mid-way
    monkeypatch.setattr(engine_module, "WORD_CACHE_SIZE", len(fresh._seen_words) + 3)
    for _ in range(3):  # the bound is crossed inside, then at the start of, an assessment
        got = fresh.assess(text, recent=recent)
        assert got == expected
        assert got.severity == Severity.IMMINENT


def test_faintness_after_bleeding_in_an_earlier_message_is_an_emergency() -> None:
    """Heavy bleeding, then 'now I feel really faint': the collapse rule reads the
    conversation, so the earlier bleeding becomes imminent (a haemorrhage emergency)."""
    result = assess("now i feel really faint", recent=["bleeding a lot since this morning"])
    assert result.severity is Severity.IMMINENT
    assert Category.MEDICAL in result.categories


def test_a_plan_after_despair_is_an_emergency_but_a_plan_for_help_is_not() -> None:
    """'Everything feels pointless' then 'I have everything ready' is a plan; a plan to get
    help or a plan with an everyday object is not."""
    raised = assess(
        "saturday. i have everything ready", recent=["everything feels pointless lately"]
    )
    assert raised.severity is Severity.IMMINENT
    assert Category.SUICIDE in raised.categories
    assert assess("i cant do this anymore. i have a plan").severity is Severity.IMMINENT
    helped = assess("im at my breaking point, i have a plan to get more help from my mom")
    assert helped.severity is Severity.MODERATE
    party = assess("i have everything ready, cant wait", recent=["we have a bbq saturday"])
    assert party.severity is Severity.NONE


def test_cached_recent_messages_give_exactly_the_uncached_verdicts() -> None:
    """Each message comes back as recent context of the next few: its analysis is reused, and
    every verdict must be the one a fresh analysis gives (evidence, spans, context rules)."""
    import json
    from pathlib import Path

    from moderation.engine import default_engine, load_engine

    corpus = Path(__file__).resolve().parents[2] / "moderation" / "eval" / "corpus.jsonl"
    texts = [json.loads(line)["text"] for line in corpus.read_text(encoding="utf-8").splitlines()]
    thread = texts[::7][:400]
    cached = default_engine()
    fresh = load_engine()
    reused = 0
    for i, text in enumerate(thread):
        recent = thread[max(0, i - 3) : i]
        reused += sum(m in cached._recent_cache for m in recent)
        fresh._recent_cache.clear()
        got = cached.assess(text, recent=recent)
        want = fresh.assess(text, recent=recent)
        assert [e.to_dict() for e in got.evidence] == [e.to_dict() for e in want.evidence], text
        assert (got.severity, got.categories) == (want.severity, want.categories)
    assert reused > 700  # two of every three recent messages were seen before: really reused
