"""The lead engineer's scale decisions (docs/moderation.md, "Scale decisions")."""

import pytest

from moderation import Category, Severity, assess


@pytest.mark.parametrize(
    "text",
    [
        "i wish i would not wake up tomorrow",
        "some nights i pray i dont wake up",
        "i wish i was dead",
        "i wish i could just stop existing",
        "i wish i had never been born",
        "honestly id be better off dead",
        "theres nothing left for me to live for",
        "no reason to live anymore",
        "life isnt worth living like this",
        "i cant go on living like this",
        "i dont want to be alive anymore",
        "i dont wanna be here anymore",
        "everyone would be better off if i was gone",
        "my family would be better off without me",
        "im done being alive",
    ],
)
def test_wish_i_would_not_wake_up_is_high(text: str) -> None:
    """A first-person present passive death wish alerts a clinician now (EPDS item 10)."""
    result = assess(text)
    assert result.severity is Severity.HIGH
    assert Category.SUICIDE in result.categories


def test_passive_wish_with_a_time_is_not_an_emergency_on_its_own() -> None:
    """'Tonight' or 'rn' does not turn a passive wish into a plan."""
    assert assess("going to sleep and never waking up sounds so peaceful rn").severity is (
        Severity.HIGH
    )


@pytest.mark.parametrize(
    "text",
    [
        "im not saying i wish i was dead, just tired",
        "years ago i wished i was dead but therapy saved me, im in a good place now",
        "my sister used to wish she was dead after her first, shes great now",
        "that song i dont want to live forever is stuck in my head",
        "i wish i was dead asleep right now instead of rocking this kid",
        "this teething is killing me",
        "i'd kill for a nap",
        "dying of embarrassment, my boob fell out at target lol",
    ],
)
def test_negated_past_third_party_and_figurative_wishes_are_not_escalated(text: str) -> None:
    assert assess(text).severity <= Severity.LOW


def test_everyday_dread_softens_a_passive_wish_without_dismissing_it() -> None:
    result = assess("i dont wanna wake up tomorrow, first day back at work ugh")
    assert result.severity is Severity.MODERATE


@pytest.mark.parametrize(
    "text",
    [
        "i keep getting these awful thoughts of dropping him and it terrifies me",
        "scary thoughts of drowning him in the bath pop into my head and i hate it",
    ],
)
def test_intrusive_unwanted_harm_thought_stays_moderate(text: str) -> None:
    """Postpartum OCD: reviewed today, never treated as an emergency."""
    assert assess(text).severity is Severity.MODERATE


@pytest.mark.parametrize(
    "text",
    ["im such a burden", "i feel like im just making everyones life harder"],
)
def test_burden_without_death_words_stays_moderate(text: str) -> None:
    assert assess(text).severity is Severity.MODERATE


@pytest.mark.parametrize(
    "text",
    [
        "nothing will ever get better",
        "i cant do this anymore",
        "im at my breaking point",
        "im barely holding on",
        "i dont know if i can keep going",
    ],
)
def test_breaking_point_is_at_least_low(text: str) -> None:
    assert Severity.LOW <= assess(text).severity <= Severity.MODERATE


def test_giving_up_on_everything_is_moderate() -> None:
    assert assess("i give up on everything").severity is Severity.MODERATE


# Scale decision 4: the distress gradient. A plain state is a check-in, the same state made
# total or pervasive is reviewed today, despair about life or survival itself alerts now.


@pytest.mark.parametrize(
    "text",
    [
        "been feeling numb lately",
        "been crying a lot this week",
        "i feel so hopeless and alone",
        "work has been so stressful since i went back",
        "cant focus on anything lately",
        "procrastinating on literally everything",
        "been having problems with my husband",
    ],
)
def test_plain_distress_and_everyday_strain_are_low(text: str) -> None:
    assert assess(text).severity is Severity.LOW


@pytest.mark.parametrize(
    "text",
    [
        "i feel completely numb",
        "feeling totally hopeless about everything",
        "the guilt is eating me alive",
        "im falling apart",
        "im at my breaking point",
        "im barely holding on",
        "i cant do this anymore",
        "i cant feel anything at all anymore",
        "im spiraling out of control",
        "everything feels pointless",
        "i dont see any way out",
    ],
)
def test_total_or_pervasive_distress_is_moderate(text: str) -> None:
    result = assess(text)
    assert result.severity is Severity.MODERATE
    assert result.categories == ()


@pytest.mark.parametrize(
    "text",
    [
        "i cant go on like this any longer",
        "i cant survive another day of this",
        "ive given up on life",
        "theres no hope for me",
        "my life has no meaning anymore",
        "i need to escape this life",
        "death is on my mind all the time",
        "i just want to vanish from this world",
        "ya no puedo seguir asi",
    ],
)
def test_despair_about_life_itself_is_high(text: str) -> None:
    result = assess(text)
    assert result.severity is Severity.HIGH
    assert Category.SUICIDE in result.categories


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("i cant go on like this any longer, she hasnt napped all day", Severity.MODERATE),
        ("im at my breaking point with the pumping schedule", Severity.LOW),
        ("i cant go on like this with the night feeds lol", Severity.NONE),
        ("im dying inside this meeting", Severity.NONE),
        ("nothing will ever get better than this cake", Severity.NONE),
        ("i used to feel like id given up on life, im doing so much better now", Severity.NONE),
        ("i dont feel completely numb anymore", Severity.NONE),
    ],
)
def test_everyday_cause_joke_negation_and_recovery_lower_the_gradient(
    text: str, expected: Severity
) -> None:
    assert assess(text).severity is expected


def test_despair_with_an_everyday_cause_and_a_death_word_is_not_lowered() -> None:
    text = "i cant go on living like this anymore, she hasnt napped all day"
    assert assess(text).severity is Severity.HIGH


def test_means_raise_final_despair_to_imminent() -> None:
    assert assess("ive given up on life. i have the pills").severity is Severity.IMMINENT


def test_want_to_disappear_is_moderate() -> None:
    assert assess("i just want to disappear").severity is Severity.MODERATE


def test_vanish_forever_and_never_come_back_is_high() -> None:
    assert assess("i want to vanish forever and never come back").severity is Severity.HIGH


@pytest.mark.parametrize(
    "text",
    ["i need to cut to feel something", "i want to hurt myself", "wanna burn myself so bad"],
)
def test_present_self_harm_urge_with_an_act_word_is_high(text: str) -> None:
    result = assess(text)
    assert result.severity is Severity.HIGH
    assert Category.SELF_HARM in result.categories


@pytest.mark.parametrize(
    "text",
    [
        "the urge to cut is back but im sitting on my hands and texting you guys instead",
        "i keep fighting urges to hurt myself",
    ],
)
def test_resisted_self_harm_urge_is_moderate(text: str) -> None:
    assert assess(text).severity is Severity.MODERATE


def test_resisting_does_not_soften_an_act() -> None:
    text = "i cut myself last night and im trying not to do it again"
    assert assess(text).severity >= Severity.HIGH


def test_grief_with_breathlessness_is_reviewed_but_chest_pain_still_alerts() -> None:
    """Breathlessness tied to grief is capped at review; unbearable chest pain is not."""
    grief = assess("the grief from the loss is unbearable, i cant breathe some days")
    assert grief.severity is Severity.MODERATE
    chest = assess("the pain in my chest is unbearable and i cant breathe")
    assert chest.severity >= Severity.HIGH


def test_a_laugh_softens_a_death_wish_to_a_check_in_but_never_dismisses_it() -> None:
    """Decision 5: 'lol' makes it a facilitator check-in; 'fr' undoes the softening."""
    assert assess("i wanna die lol").severity is Severity.LOW
    assert assess("i wanna die lol fr").severity is Severity.HIGH


@pytest.mark.parametrize(
    "text",
    [
        "my sister is bleeding through pads every hour and just passed out",
        "my friend is 5 days after her c section and cant breathe, ambulance is coming",
    ],
)
def test_someone_elses_emergency_now_reaches_the_facilitator(text: str) -> None:
    """Decision 6: another person's emergency happening now is a check-in, not nothing."""
    result = assess(text)
    assert result.severity is Severity.LOW
    assert Category.MEDICAL in result.categories


def test_someone_elses_warning_sign_without_an_emergency_stays_none() -> None:
    """Decision 6: a baby's fever or a relative's past seizure is not this member's risk."""
    assert assess("baby has a fever of 101").severity is Severity.NONE
    assert assess("my aunt had a seizure after her baby was born, she was fine after").severity is (
        Severity.NONE
    )
