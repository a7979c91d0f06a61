"""Rule files: every example matches, and a bad edit fails loudly, naming file and entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from moderation import Engine, RulesError, Severity, default_engine, load_engine


def test_every_cue_matches_its_examples_and_not_its_counter_examples() -> None:
    """Examples in the rule files are tests a clinician can read."""
    assert default_engine().check_examples() == []


def test_every_cue_has_anchors_for_the_prefilter() -> None:
    """A cue with no indexable word would run on every message (slow)."""
    engine = default_engine()
    unanchored = [engine.cues[i].id for i, _ in engine._parts if _.anchors is None]
    assert unanchored == []


def test_default_engine_is_loaded_once() -> None:
    """The default rules are compiled once and cached."""
    assert default_engine() is default_engine()


def test_custom_rule_directory_loads(rules_copy: Path) -> None:
    """A caller can load their own copy of the rules."""
    (rules_copy / "extra.toml").write_text(
        '[[cue]]\nid = "suicide.test_phrase"\ncategory = "suicide"\nseverity = "high"\n'
        "pattern = 'purple elephant'\nexamples = [\"the purple elephant\"]\n",
        encoding="utf-8",
    )
    engine = load_engine(rules_copy)
    assert isinstance(engine, Engine)
    assert engine.assess("a purple elephant").severity is Severity.HIGH


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_bad_regex_names_file_and_entry(rules_copy: Path) -> None:
    """An unbalanced parenthesis is reported with the cue that has it."""
    _replace(rules_copy / "medical.toml", "pattern = 'seizures?|", "pattern = '(seizures?|")
    with pytest.raises(RulesError) as info:
        load_engine(rules_copy)
    message = str(info.value)
    assert "medical.toml" in message
    assert "medical.seizure" in message
    assert "not a valid regular expression" in message


def test_unknown_category_names_file_and_entry(rules_copy: Path) -> None:
    """A typo in a category is refused, with the allowed values."""
    _replace(rules_copy / "abuse.toml", 'category = "abuse"', 'category = "abuse_typo"')
    with pytest.raises(
        RulesError,
        match=r"abuse\.toml: cue #1 \(abuse\.control\): "
        r"unknown category 'abuse_typo'",
    ):
        load_engine(rules_copy)


def test_unknown_severity_names_file_and_entry(rules_copy: Path) -> None:
    """A severity outside the scale is refused."""
    _replace(rules_copy / "substance.toml", 'severity = "moderate"', 'severity = "urgent"')
    with pytest.raises(
        RulesError,
        match=r"substance\.toml: cue #1 \(substance\.to_cope\): "
        r"unknown severity 'urgent'",
    ):
        load_engine(rules_copy)


def test_missing_field_names_file_and_entry(rules_copy: Path) -> None:
    """A cue without examples is refused: examples are its tests."""
    path = rules_copy / "psychosis.toml"
    text = path.read_text(encoding="utf-8")
    start = text.index("examples = [", text.index('id = "psychosis.voices"'))
    end = text.index("\n", start)
    path.write_text(text[:start] + text[end + 1 :], encoding="utf-8")
    with pytest.raises(
        RulesError,
        match=r"psychosis\.toml: cue #1 \(psychosis\.voices\): "
        r"missing field 'examples'",
    ):
        load_engine(rules_copy)


def test_unknown_field_is_refused(rules_copy: Path) -> None:
    """A misspelt field would silently do nothing; it is refused instead."""
    _replace(rules_copy / "medical.toml", 'stage = "sign"', 'stgae = "sign"')
    with pytest.raises(RulesError, match=r"medical\.toml: cue #1 .*unknown field 'stgae'"):
        load_engine(rules_copy)


def test_unknown_term_is_refused(rules_copy: Path) -> None:
    """A pattern referring to a term that does not exist is refused."""
    _replace(rules_copy / "medical.toml", "pattern = 'seizures?|", "pattern = '{fits}|seizures?|")
    with pytest.raises(RulesError, match=r"unknown term \{fits\}"):
        load_engine(rules_copy)


def test_duplicate_cue_id_is_refused(rules_copy: Path) -> None:
    """Two cues with one id would make evidence ambiguous."""
    _replace(rules_copy / "medical.toml", 'id = "medical.fever"', 'id = "medical.seizure"')
    with pytest.raises(RulesError, match="defined twice"):
        load_engine(rules_copy)


def test_broken_context_rule_names_the_rule(rules_copy: Path) -> None:
    """Context rules are validated the same way."""
    _replace(rules_copy / "context.toml", 'scope = "overlap"', 'scope = "nearby"')
    with pytest.raises(
        RulesError,
        match=r"context\.toml: rule #\d+ \(figurative\): "
        r"unknown scope 'nearby'",
    ):
        load_engine(rules_copy)


def test_invalid_toml_names_the_file(rules_copy: Path) -> None:
    """A syntax error in a file names the file."""
    (rules_copy / "abuse.toml").write_text("[[cue]\nid = ", encoding="utf-8")
    with pytest.raises(RulesError, match=r"abuse\.toml: not valid TOML"):
        load_engine(rules_copy)


def test_missing_rules_directory_is_refused(tmp_path: Path) -> None:
    """A path that is not a rules directory fails at load."""
    with pytest.raises(RulesError, match="not a directory"):
        load_engine(tmp_path / "nope")


def test_all_cue_needs_every_pattern_in_one_sentence(rules_copy: Path) -> None:
    """An 'all' cue fires only when each of its patterns matches in the same sentence."""
    (rules_copy / "extra.toml").write_text(
        '[[cue]]\nid = "suicide.test_all"\ncategory = "suicide"\nseverity = "high"\n'
        "all = ['purple elephant', 'tonight']\nexamples = [\"purple elephant tonight\"]\n",
        encoding="utf-8",
    )
    engine = load_engine(rules_copy)
    assert engine.assess("the purple elephant comes tonight").severity >= Severity.HIGH
    assert engine.assess("the purple elephant. tonight we rest").severity is Severity.NONE


def test_all_cue_with_one_pattern_is_refused(rules_copy: Path) -> None:
    """'all' means two or more patterns."""
    (rules_copy / "extra.toml").write_text(
        '[[cue]]\nid = "suicide.test_all"\ncategory = "suicide"\nseverity = "high"\n'
        "all = ['purple elephant']\nexamples = [\"purple elephant\"]\n",
        encoding="utf-8",
    )
    with pytest.raises(
        RulesError,
        match=r"extra\.toml: cue #1 \(suicide\.test_all\): "
        r"'all' needs at least two patterns",
    ):
        load_engine(rules_copy)


def test_space_question_mark_is_an_optional_separator() -> None:
    """'self ?harm' in a rule matches "selfharm" as well as "self harm" and "self-harm"."""
    engine = default_engine()
    for text in ("i want to selfharm again", "i want to self harm again", "i want to self-harm"):
        assert engine.assess(text).severity >= Severity.HIGH, text


def test_bad_chat_spelling_names_the_file_and_the_entry(rules_copy: Path) -> None:
    """A spelling that is not one lowercase word would never match: refused at load."""
    _replace(rules_copy / "lexicon.toml", 'abt = "about"', '"a bt" = "about"')
    with pytest.raises(RulesError, match=r"lexicon\.toml: \[spellings\] 'a bt'"):
        load_engine(rules_copy)
