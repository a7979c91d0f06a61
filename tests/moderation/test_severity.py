"""Every severity and every category, in the voice of the peer group."""

from __future__ import annotations

import pytest

from moderation import Category, Severity, assess


def severity_of(text: str, recent: tuple[str, ...] = ()) -> Severity:
    return assess(text, recent=recent).severity


def test_pills_counted_out_is_imminent() -> None:
    """Means counted out and ready is an emergency."""
    assert severity_of("i have the pills counted out on the counter") is Severity.IMMINENT


def test_teething_is_killing_me_is_none() -> None:
    """Ordinary exasperation is not risk."""
    assert severity_of("this teething is killing me") is Severity.NONE


def test_ordinary_question_is_none() -> None:
    """Chatter carries no evidence at all."""
    result = assess("anyone have tips for a baby who only contact naps?")
    assert result.severity is Severity.NONE
    assert result.evidence == ()
    assert result.categories == ()


@pytest.mark.parametrize(
    "text",
    [
        "i havent slept in days and i cry every day",
        "i feel so numb, i look at her and feel nothing",
        "i had a panic attack at the store today",
        "i feel so hopeless and alone",
        "ive been feeling really down lately",
        "ive lost interest in things i used to enjoy",
        "i feel like im not good enough for her",
        "im anxious all the time about everything",
        "estoy muy triste y no se por que",
    ],
)
def test_distress_is_low_for_a_facilitator_check_in(text: str) -> None:
    """Not sleeping, crying, numbness, hopelessness, panic: a gentle check-in."""
    result = assess(text)
    assert result.severity is Severity.LOW
    assert result.categories == ()  # distress is not a risk category


@pytest.mark.parametrize(
    "text",
    [
        "sometimes i wish i could go to sleep and not wake up",
        "they'd be better off without me",
    ],
)
def test_passive_death_wish_is_high(text: str) -> None:
    """C-SSRS question 1 / EPDS item 10: a clinician is alerted now (docs: Scale decisions)."""
    result = assess(text)
    assert result.severity is Severity.HIGH
    assert Category.SUICIDE in result.categories


def test_active_suicidal_thoughts_are_high() -> None:
    """Active ideation without plan or time: a clinician must know now."""
    result = assess("i keep thinking about killing myself")
    assert result.severity is Severity.HIGH
    assert result.categories == (Category.SUICIDE,)


def test_overdose_in_progress_is_imminent() -> None:
    """An act in progress is an emergency."""
    assert severity_of("i just took all of my sertraline") is Severity.IMMINENT


def test_farewell_message_is_imminent() -> None:
    """A farewell is an emergency."""
    assert severity_of("this is my last message. thank you all") is Severity.IMMINENT


def test_self_harm_urge_without_act_is_moderate() -> None:
    """An urge without an act needs review today."""
    result = assess("i really want to cut again but i havent")
    assert result.severity is Severity.MODERATE
    assert Category.SELF_HARM in result.categories


def test_recent_self_harm_is_high() -> None:
    """A recent act of self-harm is high."""
    result = assess("i cut myself again last night")
    assert result.severity is Severity.HIGH
    assert Category.SELF_HARM in result.categories


def test_cutting_too_deep_is_imminent() -> None:
    """A wound that will not stop bleeding is an emergency."""
    assert severity_of("i cut too deep and it wont stop bleeding") is Severity.IMMINENT


def test_intrusive_harm_thought_that_frightens_her_is_moderate() -> None:
    """Postpartum OCD: unwanted thoughts are reviewed, never treated as an emergency."""
    result = assess(
        "i keep getting these horrible thoughts of dropping her down the stairs. "
        "i would never but they scare me so much"
    )
    assert result.severity is Severity.MODERATE
    assert Category.HARM_TO_INFANT in result.categories


def test_unrejected_thought_of_harming_the_baby_is_high() -> None:
    """A harm thought she does not reject is high."""
    result = assess("i want to hurt my baby and i dont even feel bad about it")
    assert result.severity is Severity.HIGH
    assert Category.HARM_TO_INFANT in result.categories


def test_command_hallucination_about_the_baby_is_imminent() -> None:
    """Voices commanding harm to the baby: psychosis and infant harm, emergency."""
    result = assess("the voices are telling me to drown the baby")
    assert result.severity is Severity.IMMINENT
    assert {Category.PSYCHOSIS, Category.HARM_TO_INFANT} <= set(result.categories)


@pytest.mark.parametrize(
    "text",
    [
        "i'm hearing voices when nobody is in the room",
        "the baby isn't mine, they switched her at the hospital",
        "i havent slept in 4 days and i feel amazing, like i have a mission from god",
    ],
)
def test_signs_of_psychosis_are_high(text: str) -> None:
    """Postpartum psychosis is a medical emergency: at least high."""
    result = assess(text)
    assert result.severity >= Severity.HIGH
    assert Category.PSYCHOSIS in result.categories


def test_controlling_partner_is_moderate() -> None:
    """Control without immediate danger: review today."""
    result = assess("my husband checks my phone every night and controls all the money")
    assert result.severity is Severity.MODERATE
    assert result.categories == (Category.ABUSE,)


def test_partner_violence_is_high() -> None:
    """Abuse with danger: a clinician must know now."""
    result = assess("he hit me again last night in front of the baby")
    assert result.severity is Severity.HIGH
    assert Category.ABUSE in result.categories


def test_abuser_at_the_door_is_imminent() -> None:
    """Immediate danger from someone else."""
    result = assess("he's outside banging on the door and says he'll kill me")
    assert result.severity is Severity.IMMINENT
    assert Category.ABUSE in result.categories


def test_drinking_to_cope_is_moderate() -> None:
    """Substance use to cope: review today."""
    result = assess("i've been drinking a bottle of wine every night just to get through")
    assert result.severity is Severity.MODERATE
    assert result.categories == (Category.SUBSTANCE,)


@pytest.mark.parametrize(
    "text",
    [
        "i'm soaking a pad every hour since this morning",
        "my left calf is red swollen and really painful",
        "fever of 101.2 and chills, 6 days after birth",
        "worst headache of my life and i'm seeing spots",
        "i've had chest pain all afternoon and i'm short of breath",
        "my c-section incision is red and oozing",
        "i had a seizure this morning",
    ],
)
def test_post_birth_warning_signs_are_high(text: str) -> None:
    """AWHONN POST-BIRTH warning signs."""
    result = assess(text)
    assert result.severity is Severity.HIGH
    assert result.categories == (Category.MEDICAL,)


def test_heavy_bleeding_with_fainting_is_imminent() -> None:
    """Haemorrhage with collapse is an emergency."""
    text = "soaking through a pad every 20 minutes and i just fainted in the bathroom"
    assert severity_of(text) is Severity.IMMINENT


def test_fever_below_100_4_is_not_a_warning_sign() -> None:
    """100.4 F (38 C) is the threshold."""
    assert severity_of("my temp is 99.1 today") is Severity.NONE


def test_severity_is_ordered() -> None:
    """Severities compare clinically, not alphabetically."""
    assert Severity.HIGH >= Severity.MODERATE
    assert Severity.LOW < Severity.HIGH
    assert max(Severity.LOW, Severity.IMMINENT) is Severity.IMMINENT
    assert sorted(Severity) == list(Severity)
    assert Severity.HIGH == "high"


def test_overdose_described_in_any_order_is_imminent() -> None:
    """Ingestion, a quantity and a drug in one sentence: an overdose."""
    text = "i just drank the whole bottle of cough syrup and took my husband's sleeping pills"
    assert severity_of(text) is Severity.IMMINENT


def test_ordinary_medicine_taking_is_none() -> None:
    """Taking prescribed pills is ordinary."""
    assert severity_of("i took the pills my OB prescribed and i'm feeling a lot better") is (
        Severity.NONE
    )
