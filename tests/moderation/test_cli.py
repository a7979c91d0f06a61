"""The command line, run as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "moderation", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def test_assess_writes_one_line_per_input_and_survives_bad_lines() -> None:
    """Good lines are assessed, bad ones get an error line, processing continues."""
    lines = [
        json.dumps({"id": "a", "text": "i have the pills counted out", "room": "x"}),
        "this is not json",
        json.dumps({"id": "c", "body": "no text field"}),
        json.dumps({"id": "d", "text": 42}),
        "",
        json.dumps({"id": "e", "text": "this teething is killing me"}),
    ]
    result = run("assess", stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 5
    assert out[0]["id"] == "a" and out[0]["severity"] == "imminent"
    assert out[0]["categories"] == ["suicide"]
    assert out[0]["evidence"][0]["span"] == [0, 28] or out[0]["evidence"]
    assert out[1]["line"] == 2 and "error" in out[1]
    assert out[2] == {"line": 3, "id": "c", "error": "missing field 'text'"}
    assert out[3]["line"] == 4 and out[3]["id"] == "d" and "must be a str" in out[3]["error"]
    assert out[4]["id"] == "e" and out[4]["severity"] == "none"


def test_eval_on_the_package_corpus_ends_with_metrics() -> None:
    """The last lines are the key metrics."""
    result = run("eval")
    assert result.returncode == 0, result.stderr
    tail = result.stdout.strip().splitlines()[-6:]
    assert tail[0].startswith("-- package corpus")
    assert tail[1].startswith("escalation recall")
    assert tail[2].startswith("false escalation")
    assert tail[3].startswith("review recall")
    assert tail[4].startswith("within-accepted")
    assert tail[5].startswith("n ")


def test_eval_lists_errors_for_a_labelled_file(tmp_path: Path) -> None:
    """--errors lists misclassified items by id."""
    labelled = tmp_path / "mini.jsonl"
    labelled.write_text(
        json.dumps(
            {
                "id": "m1",
                "text": "i want to die",
                "severity": "high",
                "accept": ["high", "imminent"],
                "categories": [],
            }
        )
        + "\n"
        + json.dumps(
            {
                "id": "m2",
                "text": "lovely walk today",
                "severity": "high",
                "accept": ["high"],
                "categories": [],
            }
        )
        + "\n",
        encoding="utf-8",
    )
    result = run("eval", str(labelled), "--errors")
    assert result.returncode == 0, result.stderr
    assert "m2\thigh\tnone" in result.stdout
    assert "m1\t" not in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "n                   2"


def test_bench_prints_latency_and_throughput() -> None:
    """bench reports percentiles and messages per second."""
    result = run("bench", "--n", "300")
    assert result.returncode == 0, result.stderr
    for label in ("p50 latency", "p90 latency", "p99 latency", "max latency", "throughput"):
        assert label in result.stdout


def test_broken_rules_directory_is_a_clear_error(tmp_path: Path) -> None:
    """--rules pointing nowhere exits 2 with the reason."""
    result = run("--rules", str(tmp_path / "missing"), "assess", stdin="")
    assert result.returncode == 2
    assert "not a directory" in result.stderr


def test_a_file_without_benign_messages_reports_no_false_alarms(tmp_path: Path) -> None:
    """A set of risky messages only (a held-out batch, a Spanish subset) has nothing to raise
    a false alarm on: its false escalation is 0, not 1."""
    labelled = tmp_path / "risky.jsonl"
    row = {"id": "r1", "text": "i want to die", "severity": "high", "accept": ["high"]}
    labelled.write_text(json.dumps({**row, "categories": ["suicide"]}) + "\n", encoding="utf-8")
    result = run("eval", str(labelled))
    assert result.returncode == 0, result.stderr
    assert "false escalation    0.000  (0/0)" in result.stdout
