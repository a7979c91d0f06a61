"""The quick search (a rule pattern without its leading \\b) finds exactly what the rule finds."""

import re

import pytest

from moderation.engine import _sentences, default_engine
from moderation.evaluate import DEFAULT_CORPUS, load_items
from moderation.wordstart import WordStart, quick_pattern

TRICKY = [
    "skill myself at chess, then kill myself",  # the rule word inside a longer word first
    "kill myself",  # at the very start of the text
    "_kill myself x_kill myself 2kill myself",  # "_" and digits are word characters
    "жkill myself. kill myself",  # so is any Unicode letter
    "he said hes outside. the heat. she's here",  # "he" inside "the", "she"
    "killkill myself kill  myself kill",
]


def _spans(matches):
    return [m.span() for m in matches]


@pytest.mark.parametrize("text", TRICKY)
@pytest.mark.parametrize(
    "pattern",
    [
        r"\b(?:kill\W+myself)\b",
        r"\b(?:(?:he|hes|she)\W+(?:is\W+)?(?:outside|here))\b",
        r"\b(?:k[a-z]ll|myself)\b",
    ],
)
def test_quick_search_finds_what_the_rule_finds(pattern: str, text: str) -> None:
    """Same spans from every start position, including one just inside a word."""
    regex = re.compile(pattern)
    search = WordStart(regex)
    assert search.quick is not None
    for pos in range(len(text) + 1):
        assert _spans(search.finditer(text, pos, len(text))) == _spans(
            regex.finditer(text, pos, len(text))
        )
        full = regex.search(text, pos)
        quick = search.search(text, pos)
        assert (full and full.span()) == (quick and quick.span())


@pytest.mark.parametrize(
    "pattern",
    [
        r"\b(?:\w+ed)\b",  # may start with any word character: no set to skip to
        r"\b(?:a)|(?:b)\b",  # the \b belongs to one branch only
        r"\b(?:x?)\b",  # may match nothing
        r"\b(?:\.net)\b",  # starts with a non-word character
        r"(?:kill)\b",  # no leading \b to drop
    ],
)
def test_patterns_it_cannot_prove_keep_the_plain_regex(pattern: str) -> None:
    assert quick_pattern(re.compile(pattern)) is None
    text = "a .net x kill killed b"
    assert _spans(WordStart(re.compile(pattern)).finditer(text)) == _spans(
        re.compile(pattern).finditer(text)
    )


def test_every_rule_alternative_matches_the_same_on_the_corpus() -> None:
    """Each cue and context-rule alternative with a quick form, sentence by sentence."""
    engine = default_engine()
    searches = [WordStart(part.regex) for _, part in engine._parts]
    searches += [WordStart(regex.regex) for rule in engine.context.all for regex, _ in rule.parts]
    searches = [s for s in searches if s.quick is not None]
    assert len(searches) > 1000  # nearly every rule alternative has one
    texts = [engine.fold(item.text).text for item in load_items(DEFAULT_CORPUS)[:400]]
    for text in texts:
        for start, end in [*_sentences(text), (0, len(text))]:
            for search in searches:
                assert _spans(search.finditer(text, start, end)) == _spans(
                    search.regex.finditer(text, start, end)
                ), (search.pattern, text)
