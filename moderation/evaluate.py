"""Measure the engine against labelled messages (JSON Lines: text, severity, accept, ...).

The metrics follow what matters clinically:

- escalation recall: of messages whose every acceptable severity is high or above, the share
  assessed high or imminent (missing these is the worst failure);
- false escalation: of messages whose acceptable severities are all low or below, the share
  assessed high or above (each one pages a clinician for nothing);
- review recall: of messages whose acceptable severities are all moderate or above, the share
  assessed moderate or above;
- within-accepted: the share assessed at one of its acceptable severities.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from moderation.assessment import AssessmentError, Severity
from moderation.engine import Engine

DEFAULT_CORPUS = Path(__file__).with_name("eval") / "corpus.jsonl"


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    text: str
    severity: Severity
    accept: frozenset[Severity]
    recent: tuple[str, ...] = ()
    lang: str = "en"


@dataclass(frozen=True, slots=True)
class Outcome:
    item: Item
    got: Severity
    error: str | None = None


@dataclass(slots=True)
class Report:
    name: str
    outcomes: list[Outcome] = field(default_factory=list)

    def _share(
        self, population: list[Outcome], hit: Severity, empty: float = 1.0
    ) -> tuple[float, int, int]:
        # ``empty`` is the rate of a set with nothing to measure: a perfect score, which for a
        # false-alarm rate is 0 (a file with no benign messages raised no false alarms).
        total = len(population)
        good = sum(1 for o in population if o.got >= hit)
        return (good / total if total else empty), good, total

    @property
    def escalation(self) -> list[Outcome]:
        return [o for o in self.outcomes if min(o.item.accept) >= Severity.HIGH]

    @property
    def benign(self) -> list[Outcome]:
        return [o for o in self.outcomes if max(o.item.accept) <= Severity.LOW]

    @property
    def review(self) -> list[Outcome]:
        return [o for o in self.outcomes if min(o.item.accept) >= Severity.MODERATE]

    def escalation_recall(self) -> tuple[float, int, int]:
        return self._share(self.escalation, Severity.HIGH)

    def false_escalation(self) -> tuple[float, int, int]:
        return self._share(self.benign, Severity.HIGH, empty=0.0)

    def review_recall(self) -> tuple[float, int, int]:
        return self._share(self.review, Severity.MODERATE)

    def within_accepted(self) -> tuple[float, int, int]:
        good = sum(1 for o in self.outcomes if o.got in o.item.accept)
        total = len(self.outcomes)
        return (good / total if total else 1.0), good, total

    def errors(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.got not in o.item.accept]


def load_items(path: Path) -> list[Item]:
    items: list[Item] = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                severity = Severity(data["severity"])
                accept = frozenset(Severity(s) for s in data.get("accept") or [severity])
                items.append(
                    Item(
                        id=str(data.get("id", f"{path.name}:{number}")),
                        text=data["text"],
                        severity=severity,
                        accept=accept | {severity},
                        recent=tuple(data.get("recent", ())),
                        lang=data.get("lang", "en"),
                    )
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: not a labelled item: {exc}") from None
    return items


def evaluate(engine: Engine, items: Iterable[Item], name: str) -> Report:
    report = Report(name)
    for item in items:
        try:
            got = engine.assess(item.text, recent=item.recent).severity
            report.outcomes.append(Outcome(item, got))
        except AssessmentError as exc:
            # The contract: a failure means "needs human review", scored as high.
            report.outcomes.append(Outcome(item, Severity.HIGH, str(exc)))
    return report


def format_report(report: Report, show_errors: bool = False) -> str:
    lines = [f"== {report.name}"]
    order = list(Severity)
    header = "expected \\ got".ljust(16) + "".join(s.value.rjust(10) for s in order) + "     n"
    lines.append(header)
    for expected in order:
        row = [o for o in report.outcomes if o.item.severity is expected]
        if not row:
            continue
        counts = Counter(o.got for o in row)
        lines.append(
            expected.value.ljust(16)
            + "".join(str(counts.get(s, 0)).rjust(10) for s in order)
            + str(len(row)).rjust(6)
        )
    langs = sorted({o.item.lang for o in report.outcomes})
    if len(langs) > 1:
        for lang in langs:
            subset = Report(report.name, [o for o in report.outcomes if o.item.lang == lang])
            lines.append(
                f"  [{lang}] within-accepted {subset.within_accepted()[0]:.3f}  "
                f"escalation recall {subset.escalation_recall()[0]:.3f}  "
                f"false escalation {subset.false_escalation()[0]:.3f}  "
                f"n={len(subset.outcomes)}"
            )
    if show_errors:
        lines.append("-- misclassified (id, accepted, got, text)")
        for o in report.errors():
            accepted = "/".join(s.value for s in sorted(o.item.accept))
            lines.append(f"{o.item.id}\t{accepted}\t{o.got.value}\t{o.item.text[:140]}")
    lines.extend(metric_lines(report))
    return "\n".join(lines)


def metric_lines(report: Report) -> Sequence[str]:
    esc, esc_good, esc_total = report.escalation_recall()
    fal, fal_bad, fal_total = report.false_escalation()
    rev, rev_good, rev_total = report.review_recall()
    wit, wit_good, wit_total = report.within_accepted()
    return [
        f"-- {report.name}",
        f"escalation recall   {esc:.3f}  ({esc_good}/{esc_total})  target >= 0.95",
        f"false escalation    {fal:.3f}  ({fal_bad}/{fal_total})  target <= 0.03",
        f"review recall       {rev:.3f}  ({rev_good}/{rev_total})  target >= 0.90",
        f"within-accepted     {wit:.3f}  ({wit_good}/{wit_total})  target >= 0.85",
        f"n                   {len(report.outcomes)}",
    ]
