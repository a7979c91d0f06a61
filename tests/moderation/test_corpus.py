"""The package's own labelled corpus: its quality, and the engine's targets on it."""

from __future__ import annotations

import json
from collections import Counter

from moderation import Category, Severity, default_engine
from moderation.evaluate import DEFAULT_CORPUS, evaluate, load_items


def _rows() -> list[dict[str, object]]:
    with DEFAULT_CORPUS.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def test_corpus_is_large_and_covers_the_scale() -> None:
    """>= 600 messages, >= 200 hard negatives, every severity and category, Spanish."""
    rows = _rows()
    assert len(rows) >= 600
    assert sum(1 for r in rows if r.get("hard_negative")) >= 200
    assert {r["severity"] for r in rows} == {s.value for s in Severity}
    categories = {c for r in rows for c in r["categories"]}  # type: ignore[attr-defined]
    assert categories == {c.value for c in Category if c is not Category.DISTRESS}
    assert Counter(r["lang"] for r in rows)["es"] >= 60
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids))


def test_every_row_has_a_consistent_accept_list() -> None:
    """The labelled severity is always among the acceptable ones."""
    for row in _rows():
        assert row["severity"] in row["accept"], row["id"]  # type: ignore[operator]
        assert set(row) >= {"id", "text", "severity", "accept", "categories", "lang"}


def test_engine_meets_targets_on_its_corpus() -> None:
    """Escalation recall, false escalation, review recall, within-accepted."""
    report = evaluate(default_engine(), load_items(DEFAULT_CORPUS), "corpus")
    assert report.escalation_recall()[0] >= 0.95
    assert report.false_escalation()[0] <= 0.03
    assert report.review_recall()[0] >= 0.90
    assert report.within_accepted()[0] >= 0.85
