"""Context that lowers risk, context that raises it, and the rule named in the evidence."""

from __future__ import annotations

import pytest

from moderation import Assessment, Severity, assess


def severity_of(text: str, recent: tuple[str, ...] = ()) -> Severity:
    return assess(text, recent=recent).severity


def rule_names(result: Assessment) -> set[str]:
    return {effect.rule for evidence in result.evidence for effect in evidence.context}


def test_negation_lowers_to_none() -> None:
    """'I would never hurt her' / 'I'm not suicidal' is not risk."""
    result = assess("im not suicidal, just really tired and cranky")
    assert result.severity is Severity.NONE
    assert "negation" in rule_names(result)


def test_negation_does_not_cross_a_but() -> None:
    """A denial of one thing does not cancel the next clause."""
    assert severity_of("he doesn't hit me but he punches walls") is Severity.MODERATE


def test_not_gonna_lie_is_not_a_negation() -> None:
    """'Not gonna lie' introduces, it does not deny."""
    assert severity_of("not gonna lie i want to die") >= Severity.HIGH


def test_hypothetical_with_help_plan_is_none() -> None:
    """A safety plan ('if I ever felt like that I'd call') is not risk."""
    result = assess("if i ever felt like hurting myself i would call my therapist right away")
    assert result.severity is Severity.NONE
    assert "hypothetical_with_help_plan" in rule_names(result)


def test_resolved_history_is_none() -> None:
    """An attempt years ago, well now, is not current risk."""
    result = assess("i attempted years ago, i'm well now")
    assert result.severity is Severity.NONE
    assert "history_resolved" in rule_names(result)


def test_history_that_is_back_is_not_lowered() -> None:
    """'Started again' means the history is not over."""
    assert severity_of("i used to cut in high school and i started cutting again") >= Severity.HIGH


def test_someone_elses_past_is_none() -> None:
    """A friend's past experience is not this member's risk."""
    result = assess("my cousin used to cut herself when we were teens, she's a nurse now")
    assert result.severity is Severity.NONE


def test_someone_else_in_danger_now_is_imminent() -> None:
    """'My friend says she'll kill herself tonight' is an emergency."""
    result = assess("my friend says she'll kill herself tonight")
    assert result.severity is Severity.IMMINENT
    assert "time" in rule_names(result)


@pytest.mark.parametrize(
    "text",
    [
        "dying of embarrassment, my boob popped out at the pediatrician",
        "i'd kill for a nap",
        "gonna murder my husband lol he let her nap at 5pm",
        "my back is killing me from carrying the car seat",
        "this sleep regression is going to be the death of me",
    ],
)
def test_figurative_speech_is_none(text: str) -> None:
    """Hyperbole with risk words is ordinary conversation."""
    assert severity_of(text) is Severity.NONE


def test_figurative_rule_is_named_in_evidence() -> None:
    """Clinicians see which rule dismissed a cue."""
    result = assess("i could kill him for buying the wrong diapers again")
    assert result.severity is Severity.NONE
    assert "figurative" in rule_names(result)


def test_joking_lowers_by_two_levels() -> None:
    """'lol' softens but does not erase: 'i want to die lol' is at most low."""
    assert severity_of("i wanna die lol she just spit up in my mouth") <= Severity.LOW


def test_joking_is_overridden_by_for_real() -> None:
    """'Not joking' restores the statement."""
    assert severity_of("i want to die lol no but seriously") >= Severity.HIGH


def test_quoted_lyrics_are_none() -> None:
    """A cue inside quotes is a line being discussed."""
    result = assess('"i want to die in your arms" is such a sad lyric')
    assert result.severity is Severity.NONE
    assert rule_names(result) & {"quoted", "media"}


def test_media_talk_is_none() -> None:
    """Talking about a film where someone dies is not risk."""
    assert severity_of("watching a movie where the mom kills herself, sobbing") is Severity.NONE


def test_sharing_a_helpline_is_none() -> None:
    """Sharing resources is what a peer group is for."""
    result = assess("if anyone here is having thoughts of suicide please call or text 988")
    assert result.severity is Severity.NONE


def test_accidental_cut_is_none() -> None:
    """A kitchen accident is not self-harm."""
    assert severity_of("i cut myself on the formula can lid, stupid thing") is Severity.NONE


def test_time_raises_to_imminent() -> None:
    """Ideation with a time ('tonight') is an emergency."""
    result = assess("i want to kill myself tonight")
    assert result.severity is Severity.IMMINENT
    assert "time" in rule_names(result)


def test_means_at_hand_raises_to_imminent() -> None:
    """Ideation with the means in hand is an emergency."""
    result = assess("i want to die. i have the pills right here")
    assert result.severity is Severity.IMMINENT
    assert "means_at_hand" in rule_names(result)


def test_method_raises_passive_wish_to_high() -> None:
    """A passive wish plus a method is more than passive (C-SSRS question 3)."""
    result = assess("i keep wishing i could sleep forever, like taking pills and not waking up")
    assert result.severity >= Severity.HIGH


def test_plan_raises_to_imminent() -> None:
    """Ideation with a plan is an emergency."""
    result = assess("i keep thinking about killing myself and i've made up my mind")
    assert result.severity is Severity.IMMINENT
    assert "plan" in rule_names(result)


def test_denied_plan_does_not_raise() -> None:
    """'I don't have a plan' is not a plan."""
    assert severity_of("i want to die but i dont have a plan") is Severity.HIGH


def test_farewell_raises_to_imminent() -> None:
    """Ideation with a goodbye is an emergency."""
    result = assess("i cant keep going. goodbye everyone, i love you all")
    assert result.severity is Severity.IMMINENT
    assert "farewell" in rule_names(result)


def test_giving_things_away_raises_to_imminent() -> None:
    """Giving belongings away with hopelessness is preparation."""
    text = "i cant do this anymore. giving away my things to my sister"
    assert severity_of(text) is Severity.IMMINENT


def test_goodbye_in_ordinary_chat_is_none() -> None:
    """A goodbye with nothing to raise is just a goodbye."""
    assert severity_of("goodbye everyone, see you all next week!") is Severity.NONE


def test_ego_dystonic_rule_caps_infant_thoughts_at_moderate() -> None:
    """The OCD rule is named so a clinician sees why it is not high."""
    result = assess("i keep thinking about hurting the baby and it horrifies me")
    assert result.severity is Severity.MODERATE
    assert "ego_dystonic" in rule_names(result)


def test_birth_story_near_death_is_not_ideation() -> None:
    """'I thought I was going to die during labor' is a birth story."""
    assert severity_of("i thought i was going to die during labor") is Severity.NONE


def test_harm_thought_she_no_longer_rejects_is_high() -> None:
    """An intrusive thought that 'part of me wants' is no longer OCD-like: high."""
    text = "when he screams i picture throwing him at the wall and honestly part of me wants to"
    assert severity_of(text) is Severity.HIGH


def test_negation_before_a_co_occurrence_cue() -> None:
    """'I don't want to die' stays none even for cues built from several patterns."""
    assert severity_of("i don't want to die, i want to sleep for a week") is Severity.NONE


@pytest.mark.parametrize(
    "text",
    [
        "we bought a gun safe for the new house, any recommendations?",
        "se me cortó la leche, alguna sabe qué hacer?",
        "lo said 'i want to die' when i took the ipad away, toddlers are so dramatic",
        "my sister has bipolar and the voices came back, she's in the hospital now and safe",
        "i wish i could disappear for a spa weekend",
        "i dont wanna wake up tomorrow, first day back at work ugh",
    ],
)
def test_everyday_words_that_sound_risky_are_not_escalated(text: str) -> None:
    assert assess(text).severity < Severity.HIGH


def test_intrusive_image_she_finds_horrifying_is_reviewed_not_an_emergency() -> None:
    text = "the thought of putting a pillow over her face keeps coming and it horrifies me"
    assert assess(text).severity is Severity.MODERATE


def test_means_with_timing_is_an_emergency_without_a_death_word() -> None:
    text = "i have the rope in the closet and hubby works late tonight"
    assert assess(text).severity is Severity.IMMINENT


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("ive cut myself off from social media this week", "cut_off_idiom"),
        ("im crying laughing i cant breathe, he sneezed mid bottle", "laughing_breathless"),
        ("ok ive decided, im going to do it. sleep training starts tonight", "everyday_plan_named"),
        ("goodbye everyone, thank you for everything, were moving to texas", "everyday_goodbye"),
    ],
)
def test_everyday_readings_of_risky_words_are_none(text: str, rule: str) -> None:
    """An idiom, a laugh, a named everyday plan or an everyday goodbye is not risk."""
    result = assess(text)
    assert result.severity is Severity.NONE
    assert rule in rule_names(result)


@pytest.mark.parametrize(
    ("text", "at_least"),
    [
        ("im going to do it, ive made up my mind", Severity.IMMINENT),
        ("goodbye everyone, thank you for everything, please dont blame yourselves", Severity.HIGH),
        ("i dont know how much longer i can live like this", Severity.MODERATE),
        ("i dont feel bad about it anymore, i want to hurt myself", Severity.HIGH),
    ],
)
def test_unnamed_resolve_and_veiled_goodbye_are_not_dismissed(
    text: str, at_least: Severity
) -> None:
    """Resolve with no named act, a goodbye with no everyday reason, and 'dont know' or
    'dont feel bad' before a cue (not denials) keep their risk."""
    assert severity_of(text) >= at_least


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("i want to die for real this time", Severity.HIGH),
        ("i want to die, for sure, i mean it", Severity.HIGH),
        ("my mil makes a lasagna to die for", Severity.NONE),
    ],
)
def test_die_for_real_is_not_the_idiom_to_die_for(text: str, expected: Severity) -> None:
    """'to die for' (delicious, devoted) is figurative; 'want to die for real' is the opposite."""
    assert severity_of(text) is expected


def test_hyperbole_about_a_named_adult_is_not_about_the_baby() -> None:
    """'I could strangle her' after naming a sister-in-law is venting (the baby's face is only
    what she posted); with the baby itself named in between it stays an alert, since then
    'her' may be the baby."""
    vent = (
        "my sil posted the baby's face on facebook after i asked her not to, "
        "i could strangle her honestly"
    )
    assert assess(vent).severity <= Severity.LOW
    risky = "my mom keeps telling me the baby is spoiled, i could strangle her"
    assert assess(risky).severity >= Severity.HIGH
