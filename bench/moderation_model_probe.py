"""Would a learned second opinion catch what the rules miss on text they were not written for?

python bench/moderation_model_probe.py [--hold PREFIX ...] [--extra FILE.jsonl ...]

An experiment, not part of the product. It trains a plain logistic model on word unigrams and
bigrams from the corpus minus the held-out batches (default: the blind sets from b5 on, which
the rules were fixed against only after they were scored), then compares, on the held-out
batches, on any `--extra` labelled files and on ../shared/eval/ash-thrash.jsonl (written by
other people, never trained on):

- the rules alone (the engine as it ships);
- the rules, raised to `high` where the model's escalation probability >= t and to `moderate`
  where its review probability >= t;
- the model alone.

The finding that kept the model out of the engine (docs/moderation.md, "A learned second
opinion"): on held-out sets in our own voice it adds a lot of recall, but on ash-thrash it
adds nothing to escalation recall and flags 8-30% of the negatives for review — it learns our
writing, not risk.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from moderation.assessment import Severity
from moderation.engine import default_engine
from moderation.evaluate import DEFAULT_CORPUS

ORDER = list(Severity)
ASH_THRASH = Path(__file__).resolve().parents[2] / "shared" / "eval" / "ash-thrash.jsonl"
DEFAULT_HOLD = tuple(f"blind-b{n}" for n in range(5, 40))
THRESHOLDS = (0.5, 0.7, 0.8, 0.9)
WORD = re.compile(r"[a-záéíóúñü']+|[\U0001F300-\U0001FAFF]")

Row = tuple[int, int, int, float, float]  # lowest and highest acceptable, rules, p(review), p(esc)


def features(text: str) -> set[str]:
    words = [w.replace("'", "") for w in WORD.findall(text.lower())]
    return set(words) | {f"{a}_{b}" for a, b in itertools.pairwise(words)}


def bounds(item: dict) -> tuple[int, int]:
    accept = {Severity(s) for s in item.get("accept") or ()} | {Severity(item["severity"])}
    return min(ORDER.index(s) for s in accept), max(ORDER.index(s) for s in accept)


class Logistic:
    """Stochastic gradient descent, fixed seed: the same corpus gives the same weights."""

    def __init__(self, items: list[dict], level: int, epochs: int = 30, rate: float = 0.2):
        self.weights: dict[str, float] = {}
        self.bias = 0.0
        data = [(features(i["text"]), 1 if bounds(i)[0] >= level else 0) for i in items]
        rnd = random.Random(1)
        for _ in range(epochs):
            rnd.shuffle(data)
            for feats, y in data:
                g = self.probability_of(feats) - y
                self.bias -= rate * g
                for f in feats:
                    self.weights[f] = self.weights.get(f, 0.0) * (1 - rate * 1e-4) - rate * g

    def probability_of(self, feats: Iterable[str]) -> float:
        z = self.bias + sum(self.weights.get(f, 0.0) for f in feats)
        return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))


def load(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def score(rows: list[Row], combine: Callable[[Row], int]) -> str:
    esc = [r for r in rows if r[0] >= ORDER.index(Severity.HIGH)]
    neg = [r for r in rows if r[1] <= ORDER.index(Severity.LOW)]
    rev = [r for r in rows if r[0] >= ORDER.index(Severity.MODERATE)]

    def share(pop: list[Row], level: Severity) -> str:
        hit = sum(1 for r in pop if combine(r) >= ORDER.index(level))
        return f"{hit / len(pop):.3f}" if pop else "  -  "

    return (
        f"escalation {share(esc, Severity.HIGH)}  false escalation {share(neg, Severity.HIGH)}  "
        f"review {share(rev, Severity.MODERATE)}  negatives sent to review "
        f"{share(neg, Severity.MODERATE)}"
    )


def _model_says(row: Row, threshold: float) -> int:
    if row[4] >= threshold:
        return ORDER.index(Severity.HIGH)
    return ORDER.index(Severity.MODERATE) if row[3] >= threshold else 0


def report(name: str, items: list[dict], review: Logistic, escalate: Logistic) -> None:
    engine = default_engine()
    rows: list[Row] = []
    for item in items:
        got = engine.assess(item["text"], recent=item.get("recent", ())).severity
        feats = features(item["text"])
        rows.append(
            (*bounds(item), ORDER.index(got), review.probability_of(feats),
             escalate.probability_of(feats))
        )  # fmt: skip
    print(f"== {name}: {len(rows)} messages")
    print(f"  rules alone          {score(rows, lambda r: r[2])}")
    for t in THRESHOLDS:
        both = score(rows, lambda r, t=t: max(r[2], _model_says(r, t)))
        alone = score(rows, lambda r, t=t: _model_says(r, t))
        print(f"  rules + model t={t}  {both}")
        print(f"  model alone   t={t}  {alone}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hold", nargs="*", default=DEFAULT_HOLD, help="batch names held out")
    parser.add_argument("--extra", nargs="*", type=Path, default=[], help="more held-out files")
    args = parser.parse_args()
    corpus = load(DEFAULT_CORPUS)
    held = [i for i in corpus if i.get("batch") in set(args.hold)]
    train = [i for i in corpus if i.get("batch") not in set(args.hold)]
    review = Logistic(train, ORDER.index(Severity.MODERATE))
    escalate = Logistic(train, ORDER.index(Severity.HIGH))
    print(f"trained on {len(train)} corpus messages; held out {len(held)}")
    if held:
        report("held-out corpus batches", held, review, escalate)
    for path in args.extra:
        report(path.name, load(path), review, escalate)
    if ASH_THRASH.exists():
        report("ash-thrash", load(ASH_THRASH), review, escalate)


if __name__ == "__main__":
    main()
