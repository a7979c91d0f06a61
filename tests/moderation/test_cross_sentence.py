"""Risk split across sentences or messages: the second part completes the first."""

from __future__ import annotations

from moderation import Category, Severity, assess


def test_a_wish_for_everything_to_stop_finished_by_permanently_is_a_death_wish() -> None:
    """'. Permanently' on its own turns a wish for rest into a wish to be dead."""
    result = assess("i just want everything to stop. Permanently")
    assert result.severity is Severity.HIGH
    assert Category.SUICIDE in result.categories
    assert assess("i just want to sleep. Forever.").severity is Severity.HIGH


def test_a_wish_for_rest_with_an_ordinary_ending_stays_quiet() -> None:
    """'i just want to sleep' followed by how long is tiredness, not risk."""
    assert assess("i just want to sleep. like 12 hours straight").severity is Severity.NONE
    assert assess("i just want to sleep").severity is Severity.NONE


def test_dont_worry_about_me_after_a_plan_is_an_emergency() -> None:
    """Reassurance that reads as a farewell once a plan was mentioned."""
    result = assess("dont worry about me", recent=("i have a plan",))
    assert result.severity is Severity.IMMINENT
    assert assess("dont worry about me ladies, the nap worked").severity is Severity.NONE


def test_a_violent_partner_arriving_is_danger_now() -> None:
    """'hes here' after he broke her nose last time: emergency, but not on its own."""
    recent = ("he said hes coming over to talk", "last time he talked he broke my nose")
    assert assess("hes here", recent=recent).severity is Severity.IMMINENT
    assert assess("hes here! back from deployment").severity is Severity.NONE


def test_where_the_gun_is_kept_raises_an_earlier_death_wish() -> None:
    """Finding the means after 'better off without me' is an emergency."""
    recent = ("i keep thinking shed be better off without me",)
    assert assess("i found where he keeps the gun", recent=recent).severity is Severity.IMMINENT
