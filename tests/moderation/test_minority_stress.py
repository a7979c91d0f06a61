"""Minority stress (rejection, discrimination, dysphoria, isolation) and gaming talk."""

from __future__ import annotations

from pathlib import Path

import pytest

from moderation import Category, RulesError, Severity, assess, load_engine


@pytest.mark.parametrize(
    "text",
    [
        "my parents said we're not welcome at christmas because we're two moms",
        "the midwife kept misgendering my husband all through his labour",
        "terrified my boss will find out im trans before my leave starts",
        "we have to pretend to be just friends when her family visits the baby",
        "the l&d nurse brushed off my pain and i know its because im black",
        "cant find any other queer parents here and i feel so isolated",
        "the dysphoria since chestfeeding started is unbearable",
        "en la clinica me trataron mal por ser inmigrante",
    ],
)
def test_identity_based_rejection_goes_to_clinician_review(text: str) -> None:
    """Rejection, discrimination and dysphoria are reviewed today, not paged now."""
    assert assess(text).severity is Severity.MODERATE


def test_rejection_by_someone_else_is_still_the_writers_distress() -> None:
    """The actor is a third person ('they won't...'), but it is happening to the writer."""
    result = assess("our priest said they wont baptise the baby since we're two dads")
    assert result.severity is Severity.MODERATE
    assert [e.cue for e in result.evidence] == ["minority.religious_condemnation"]


def test_threat_to_out_her_is_abuse() -> None:
    result = assess("my ex says she'll out me to my family if i dont hand over the baby")
    assert result.severity is Severity.MODERATE
    assert result.categories == (Category.ABUSE,)


def test_violence_from_a_wife_is_abuse_with_danger() -> None:
    result = assess("my wife punched me last night while i was feeding the baby")
    assert result.severity is Severity.HIGH
    assert Category.ABUSE in result.categories


def test_suicide_words_still_raise_a_rejection_message() -> None:
    result = assess("my family disowned me for being gay and i want to kill myself")
    assert result.severity >= Severity.HIGH
    assert Category.SUICIDE in result.categories


@pytest.mark.parametrize(
    "text",
    [
        "my wife and i are running on no sleep lol",
        "our two-mum family had the best day at the beach",
        "pride picnic with the baby on saturday, who's coming?",
        "conversion therapy ban passed in our state, finally",
        "we're the only two dad family at playgroup and everyone is lovely",
        "my wife kicked me in her sleep again, bedsharing is wild",
        "im scared the baby will come out before my mum arrives",
    ],
)
def test_neutral_mentions_of_identity_stay_quiet(text: str) -> None:
    assert assess(text).severity <= Severity.LOW


@pytest.mark.parametrize(
    "text",
    [
        "died to that raid boss for the 20th time, i want to die",
        "my jungler went afk and im dead inside",
        "fell in lava with all my loot, kill me",
    ],
)
def test_game_deaths_are_not_risk(text: str) -> None:
    assert assess(text).severity is Severity.NONE


def test_real_risk_in_gaming_talk_is_kept() -> None:
    """Risk words the game cannot explain keep the cue."""
    text = "i died in the raid again and honestly i want to die for real, every day"
    assert assess(text).severity >= Severity.MODERATE


def test_about_writer_must_be_true_or_false(rules_copy: Path) -> None:
    path = rules_copy / "minority_stress.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("about_writer = true", 'about_writer = "yes"', 1),
        encoding="utf-8",
    )
    with pytest.raises(RulesError, match=r"minority_stress\.toml: cue #1 .*'about_writer'"):
        load_engine(rules_copy)
