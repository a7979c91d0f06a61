"""Command line: ``python -m moderation assess|eval|bench``.

- ``assess``: JSON Lines on stdin (``{"id": ..., "text": ..., "recent": [...]?}``), one JSON line
  per input on stdout with ``id``, ``severity``, ``categories``, ``evidence``. A line that cannot
  be read or assessed gets ``{"line": n, "id": ..., "error": "..."}`` and processing continues.
- ``eval [FILE.jsonl ...]``: metrics on labelled files (default: the package's own corpus).
- ``bench``: latency percentiles and throughput for ~300-character messages.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from moderation.assessment import AssessmentError, RulesError
from moderation.engine import Engine, default_engine, load_engine


def _engine(args: argparse.Namespace) -> Engine:
    return load_engine(args.rules) if args.rules else default_engine()


def assess_lines(engine: Engine, stdin: TextIO, stdout: TextIO) -> int:
    """Assess each JSON line; returns how many lines failed."""
    failures = 0
    for number, line in enumerate(stdin, start=1):
        if not line.strip():
            continue
        out: dict[str, Any]
        ident: Any = None
        try:
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"not valid JSON: {exc}") from None
            if not isinstance(data, dict):
                raise ValueError("expected a JSON object")
            ident = data.get("id")
            if "text" not in data:
                raise ValueError("missing field 'text'")
            result = engine.assess(data["text"], recent=data.get("recent") or ())
            out = {"id": ident, **result.to_dict()}
        except (ValueError, AssessmentError) as exc:
            # json.JSONDecodeError is a ValueError; AssessmentError too, kept explicit.
            failures += 1
            out = {"line": number, "error": str(exc)}
            if ident is not None:
                out["id"] = ident
        stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    stdout.flush()
    return failures


def _cmd_assess(args: argparse.Namespace) -> int:
    assess_lines(_engine(args), sys.stdin, sys.stdout)
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from moderation.evaluate import DEFAULT_CORPUS, evaluate, format_report, load_items

    engine = _engine(args)
    paths = [Path(p) for p in args.files] or [DEFAULT_CORPUS]
    reports = []
    for path in paths:
        try:
            items = load_items(path)
        except (OSError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        name = "package corpus" if path == DEFAULT_CORPUS else path.name
        reports.append(evaluate(engine, items, name))
    for report in reports:
        text = format_report(report, show_errors=args.errors)
        # Tables first; every file's metric lines last, so the tail of the output is the summary.
        print("\n".join(text.splitlines()[:-6]))
        print()
    for report in reports:
        print("\n".join(format_report(report).splitlines()[-6:]))
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from moderation.bench import run

    result = run(_engine(args), count=args.n, seed=args.seed)
    print("\n".join(result.lines()))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m moderation", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--rules", help="directory of rule files (default: the package's own)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("assess", help="assess JSON Lines from stdin").set_defaults(func=_cmd_assess)
    ev = sub.add_parser("eval", help="metrics on labelled JSON Lines files")
    ev.add_argument("files", nargs="*", help="labelled .jsonl files (default: package corpus)")
    ev.add_argument("--errors", action="store_true", help="list misclassified items")
    ev.set_defaults(func=_cmd_eval)
    bench = sub.add_parser("bench", help="latency and throughput on ~300-character messages")
    bench.add_argument("--n", type=int, default=5000, help="messages to time")
    bench.add_argument("--seed", type=int, default=7)
    bench.set_defaults(func=_cmd_bench)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except RulesError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
