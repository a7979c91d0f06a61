"""How people actually write: typos, leetspeak, censoring, algospeak, emoji, stretched letters."""

from __future__ import annotations

import pytest

from moderation import Severity, assess, default_engine


def severity_of(text: str, recent: tuple[str, ...] = ()) -> Severity:
    return assess(text, recent=recent).severity


@pytest.mark.parametrize(
    "text",
    [
        "thinking about k!lling myself",
        "su1c1dal again, sorry",
        "s*icide thoughts all day",
        "i wanna d!e",
        "been having sui thoughts",
    ],
)
def test_leetspeak_and_censoring_are_seen_through(text: str) -> None:
    """Disguised words are restored before matching."""
    assert severity_of(text) >= Severity.HIGH


@pytest.mark.parametrize(
    "text",
    ["i want to unalive myself", "kms fr", "thinking about sewer slide", "i wanna kms"],
)
def test_algospeak_is_understood(text: str) -> None:
    """Platform euphemisms for suicide."""
    assert severity_of(text) >= Severity.HIGH


def test_pill_and_coffin_emoji_are_high() -> None:
    """💊⚰️ is read as means plus death."""
    assert severity_of("i cant do this anymore 💊💊⚰️") >= Severity.HIGH


def test_knife_and_blood_emoji_with_time_is_imminent() -> None:
    """🔪🩸 with 'tonight' is an emergency."""
    assert severity_of("🔪🩸 tonight. bye") is Severity.IMMINENT


def test_stretched_letters_are_squeezed() -> None:
    """'dieeeee' is 'die'."""
    assert severity_of("i want to dieeeee") >= Severity.HIGH
    assert severity_of("i want to diiiiie") >= Severity.HIGH


def test_missing_apostrophes_and_lowercase() -> None:
    """'dont want to live' reads like 'don't want to live'."""
    assert severity_of("i dont want to live anymore") is Severity.HIGH
    assert severity_of("I DON'T WANT TO LIVE ANYMORE") is Severity.HIGH


def test_numbers_are_not_mistaken_for_leetspeak() -> None:
    """'3am' and '100.4f' stay as they are."""
    folded = default_engine().fold("up at 3am, temp 100.4F")
    assert folded.text == "up at 3am, temp 100.4f"


def test_folded_span_maps_back_to_the_original() -> None:
    """Evidence highlights the disguised word as the member wrote it."""
    text = "I'm gonna k!ll myself"
    result = assess(text)
    (evidence,) = [e for e in result.evidence if e.cue == "suicide.kill_self"]
    assert text[evidence.start : evidence.end] == "k!ll myself"
    assert evidence.matched == "k!ll myself"


def test_accents_fold_and_map_back() -> None:
    """Spanish accents are folded for matching but spans index the original."""
    text = "Mañana ya no voy a estar"
    result = assess(text)
    assert result.severity is Severity.IMMINENT
    evidence = result.evidence[0]
    assert text[evidence.start : evidence.end] == evidence.matched
    assert "estar" in evidence.matched


@pytest.mark.parametrize(
    "text",
    ["i want to kill myself💔💔", "¿quiero morir?", "i want to die…", "wanna die—sorry"],
)
def test_cue_glued_to_emoji_or_non_ascii_punctuation_is_found(text: str) -> None:
    """The engine's word lookup treats any non-ASCII character as a separator, as the rules do."""
    assert severity_of(text) >= Severity.HIGH


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ngl been thinkin abt unaliving a lot lately", Severity.HIGH),
        ("soakin a pad every 30 mins and feel rly dizzy", Severity.IMMINENT),
        ("everyone'd be fine w/o me tbh", Severity.HIGH),
        ("had 6 glasses of wine and now im alone w the baby lol oops", Severity.HIGH),
    ],
)
def test_chat_spellings_are_read_as_words(text: str, expected: Severity) -> None:
    """'thinkin abt', 'rly', 'w/o', 'w the baby' reach the rules written out."""
    assert assess(text).severity is expected


def test_chat_spellings_are_whole_words_and_map_back() -> None:
    """Only a whole chat word is written out ('u' but not the 'u' of 'sun'), and evidence
    still highlights what the member wrote."""
    folded = default_engine().fold("r/NewParents: u ok? sun is out w/o clouds")
    assert folded.text == "r/newparents: you ok? sun is out without clouds"
    text = "soakin a pad every 30 mins"
    (evidence,) = [e for e in assess(text).evidence if e.cue == "medical.heavy_bleeding"]
    assert text[evidence.start : evidence.end] == "soakin a pad every 30 mins"
