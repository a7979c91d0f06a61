"""Spanish: high and imminent expressions of every category, and idioms that are not risk."""

from __future__ import annotations

import pytest

from moderation import Category, Severity, assess


def severity_of(text: str, recent: tuple[str, ...] = ()) -> Severity:
    return assess(text, recent=recent).severity


@pytest.mark.parametrize(
    ("text", "category", "severity"),
    [
        ("quiero morirme, ya no aguanto", Category.SUICIDE, Severity.HIGH),
        ("me voy a matar esta noche", Category.SUICIDE, Severity.IMMINENT),
        ("tengo las pastillas contadas", Category.SUICIDE, Severity.IMMINENT),
        ("me volví a cortar anoche", Category.SELF_HARM, Severity.HIGH),
        ("me corté muy profundo y no para de sangrar", Category.SELF_HARM, Severity.IMMINENT),
        ("quiero hacerle daño a mi bebé", Category.HARM_TO_INFANT, Severity.HIGH),
        ("voy a lastimar a mi bebé ahora mismo", Category.HARM_TO_INFANT, Severity.IMMINENT),
        ("escucho voces cuando no hay nadie", Category.PSYCHOSIS, Severity.HIGH),
        ("las voces me dicen que tengo que ahogar al bebé", Category.PSYCHOSIS, Severity.IMMINENT),
        ("mi esposo me pegó otra vez", Category.ABUSE, Severity.HIGH),
        ("mi ex está afuera con una pistola", Category.ABUSE, Severity.IMMINENT),
        ("estoy borracha y sola con el bebé", Category.SUBSTANCE, Severity.HIGH),
        ("tengo fiebre de 39 después del parto", Category.MEDICAL, Severity.HIGH),
        ("estoy sangrando muchísimo y me desmayé", Category.MEDICAL, Severity.IMMINENT),
    ],
)
def test_spanish_risk_is_recognised(text: str, category: Category, severity: Severity) -> None:
    """Each category at high or imminent, in Spanish."""
    result = assess(text)
    assert result.severity is severity
    assert category in result.categories


@pytest.mark.parametrize(
    "text",
    [
        "me muero de sueño jajaja",
        "me muero por un café",
        "estoy muerta de cansancio pero feliz",
        "nunca le haría daño a mi bebé, la amo",
        "me corté el pelo y me siento nueva",
        "no quiero morir, solo quiero dormir una semana",
    ],
)
def test_spanish_idioms_and_denials_are_none(text: str) -> None:
    """'Me muero de sueño' is tiredness, not risk."""
    assert severity_of(text) is Severity.NONE
