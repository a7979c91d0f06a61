"""`python -m app report`: the escalation figures, computed from the database.

- time from an escalation's commit to its first notification being handed to SMTP / the
  webhook (p50, p99), from the outbox rows (for an in-process measurement with a live SMTP
  server, run bench/escalation_latency.py);
- escalations by category and severity;
- the false-alarm rate per rule: of the resolved escalations a rule fired on, how many a
  clinician marked "not a risk".
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from app.services import Services
from app.storage import escalations as store


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


async def build(svc: Services) -> dict[str, Any]:
    async with svc.db.transaction() as s:
        escalations = await store.all_escalations(s)
        sent = await store.all_opened_notifications(s)
    first_sent: dict[int, float] = {}
    for n, esc in sent:
        if n.sent_at is None:
            continue
        secs = (n.sent_at - esc.opened_at).total_seconds()
        first_sent[esc.id] = min(secs, first_sent.get(esc.id, secs))  # type: ignore[index]
    latencies = list(first_sent.values())
    by_cat_sev: Counter[tuple[str, str]] = Counter()
    for esc in escalations:
        for cat in esc.categories or ["(none)"]:
            by_cat_sev[(cat, esc.severity)] += 1
    fired: dict[str, int] = defaultdict(int)
    false: dict[str, int] = defaultdict(int)
    for esc in escalations:
        if esc.state != "resolved":
            continue
        for rule in esc.rules:
            fired[rule] += 1
            if esc.outcome == "not_a_risk":
                false[rule] += 1
    return {
        "notification_latency_seconds": {
            "count": len(latencies),
            "p50": percentile(latencies, 50),
            "p99": percentile(latencies, 99),
        },
        "escalations_by_category_and_severity": [
            {"category": c, "severity": sv, "count": n} for (c, sv), n in sorted(by_cat_sev.items())
        ],
        "false_alarm_rate_per_rule": [
            {"rule": r, "resolved": fired[r], "not_a_risk": false[r], "rate": false[r] / fired[r]}
            for r in sorted(fired, key=lambda r: (-false[r] / fired[r], r))
        ],
    }


def render(report: dict[str, Any]) -> str:
    lat = report["notification_latency_seconds"]
    lines = ["Escalation report", ""]
    if lat["count"]:
        lines.append(
            f"Commit → first notification sent: p50 {lat['p50'] * 1000:.0f} ms, "
            f"p99 {lat['p99'] * 1000:.0f} ms (n={lat['count']})"
        )
    else:
        lines.append("Commit → first notification sent: no notifications sent yet")
    lines += ["", "Escalations by category and severity:"]
    for row in report["escalations_by_category_and_severity"] or [{"category": "-"}]:
        if "count" in row:
            lines.append(f"  {row['category']:<16} {row['severity']:<11} {row['count']:>5}")
        else:
            lines.append("  none yet")
    lines += ["", "False-alarm rate per rule (resolved escalations marked 'not a risk'):"]
    for row in report["false_alarm_rate_per_rule"]:
        lines.append(
            f"  {row['rule']:<40} {row['not_a_risk']:>4}/{row['resolved']:<4} {row['rate']:.0%}"
        )
    if not report["false_alarm_rate_per_rule"]:
        lines.append("  no resolved escalations yet")
    return "\n".join(lines)
