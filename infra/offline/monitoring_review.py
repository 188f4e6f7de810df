"""The render's review table of what the stack watches: alerts, SLOs, uptime, budget.

Built from the rendered resources (what will really be declared), so the table cannot disagree
with the stack; the budget row sits next to the cost model's estimate for the same settings, so
a reviewer sees whether the cap fits the expected spend.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

ALERT = "gcp:monitoring/alertPolicy:AlertPolicy"
SLO = "gcp:monitoring/slo:Slo"
UPTIME = "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig"
BUDGET = "gcp:billing/budget:Budget"
CHANNEL = "gcp:monitoring/notificationChannel:NotificationChannel"
LOG_METRIC = "gcp:logging/metric:Metric"
POD_MONITORING = "kubernetes:monitoring.googleapis.com/v1:PodMonitoring"

_METRIC = re.compile(r'metric\.type="([^"]+)"')
_LOOKBACK = re.compile(r'select_slo_burn_rate\("[^"]*/serviceLevelObjectives/([^"]+)",\s*"(\d+)s"\)')


@dataclass(frozen=True)
class Spend:
    """The cost model's monthly estimate for the stack's settings."""

    expected: float  # at the review's reference rate
    rate_rps: float
    ceiling: float  # every allowed instance busy all month


def _cell(text: Any) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _condition(condition: dict[str, Any]) -> str:
    threshold = condition.get("conditionThreshold")
    if threshold:
        match = _LOOKBACK.search(str(threshold.get("filter", "")))
        comparison = {"COMPARISON_GT": ">", "COMPARISON_GE": "≥"}.get(threshold.get("comparison"), "?")
        value = threshold.get("thresholdValue")
        if match:
            return f"{match.group(1)} burn rate {comparison} {value:g} over {int(match.group(2)) // 60} min"
        metric = _METRIC.search(str(threshold.get("filter", "")))
        what = metric.group(1).split(".googleapis.com/", 1)[-1] if metric else "?"
        aligner = ((threshold.get("aggregations") or [{}])[0].get("perSeriesAligner") or "").removeprefix(
            "ALIGN_"
        )
        if threshold.get("denominatorFilter"):
            what = f"share of {what} ({condition.get('displayName', '')})"
        elif aligner.startswith("PERCENTILE_"):
            what = f"p{aligner.removeprefix('PERCENTILE_')} {what}"
        return f"{what} {comparison} {value:g} for {threshold.get('duration', '0s')}"
    promql = condition.get("conditionPrometheusQueryLanguage")
    if promql:
        return f"PromQL: `{promql.get('query', '')}`"
    return condition.get("displayName", "?")


def _money(value: float) -> str:
    return f"${value:,.2f}"


def _budget_amount(inputs: dict[str, Any]) -> float:
    amount = (inputs.get("amount") or {}).get("specifiedAmount") or {}
    return float(amount.get("units") or 0) + float(amount.get("nanos") or 0) / 1e9


def review_table(resources: Sequence[dict[str, Any]], spend: Spend | None) -> str:
    by_type: dict[str, list[dict[str, Any]]] = {}
    for r in resources:
        by_type.setdefault(r["type"], []).append(r)
    if not any(t in by_type for t in (ALERT, SLO, UPTIME, BUDGET)):
        return "### Monitoring\n\nNone: `monitoring` is off for this stack.\n"
    channels = by_type.get(CHANNEL, [])
    emails = ", ".join(sorted(c["inputs"].get("labels", {}).get("email_address", "?") for c in channels))
    lines = [
        "### Monitoring",
        "",
        f"Notification channels: {len(channels)} ({emails or 'none: alerts fire but notify nobody'}).",
        "",
        "| what | name | severity / goal | condition | notifies |",
        "|---|---|---|---|---|",
    ]
    for slo in by_type.get(SLO, []):
        inputs = slo["inputs"]
        lines.append(
            f"| SLO | `{inputs.get('sloId')}` | {inputs.get('goal', 0):.2%} over "
            f"{inputs.get('rollingPeriodDays')} days | {_cell(inputs.get('displayName', ''))} | — |"
        )
    for alert in sorted(by_type.get(ALERT, []), key=lambda r: r["name"]):
        inputs = alert["inputs"]
        joiner = " AND " if inputs.get("combiner") == "AND" else " OR "
        condition = joiner.join(_condition(c) for c in inputs.get("conditions", []))
        lines.append(
            f"| alert | {_cell(inputs.get('displayName', alert['name']))} | {inputs.get('severity', '—')} | "
            f"{_cell(condition)} | {len(inputs.get('notificationChannels', []))} channel(s) |"
        )
    for check in by_type.get(UPTIME, []):
        inputs = check["inputs"]
        http = inputs.get("httpCheck", {})
        auth = "OIDC (Monitoring service agent)" if "serviceAgentAuthentication" in http else "none"
        lines.append(
            f"| uptime | {_cell(inputs.get('displayName'))} | — | every {inputs.get('period')}, "
            f"{'HTTPS' if http.get('useSsl') else 'HTTP'}, auth {auth} | via the uptime alert |"
        )
    for metric in by_type.get(LOG_METRIC, []):
        lines.append(
            f"| log metric | `{metric['inputs'].get('name')}` | — | "
            f"`{_cell(metric['inputs'].get('filter'))}` | — |"
        )
    for monitor in by_type.get(POD_MONITORING, []):
        endpoints = monitor["inputs"].get("spec", {}).get("endpoints", [])
        scraped = ", ".join(f":{e.get('port')}{e.get('path')} every {e.get('interval')}" for e in endpoints)
        lines.append(
            f"| scrape | `{monitor['inputs'].get('metadata', {}).get('name')}` | — | {scraped} | — |"
        )
    lines += _budget_lines(by_type.get(BUDGET, []), spend)
    return "\n".join(lines) + "\n"


def _budget_lines(budgets: list[dict[str, Any]], spend: Spend | None) -> list[str]:
    lines = [""]
    if not budgets:
        lines.append("Budget: none (set `billingAccount` and `monthlyBudget`).")
    for budget in budgets:
        inputs = budget["inputs"]
        amount = _budget_amount(inputs)
        thresholds = ", ".join(
            f"{r.get('thresholdPercent', 0):.0%}" for r in inputs.get("thresholdRules", [])
        )
        channels = len((inputs.get("allUpdatesRule") or {}).get("monitoringNotificationChannels", []))
        lines.append(f"Budget: {_money(amount)} a month, alerts at {thresholds} to {channels} channel(s).")
        if spend is not None:
            verdict = "covers it" if spend.expected <= amount else "is below it: expect alerts every month"
            lines.append(
                f"Cost model: {_money(spend.expected)} a month at {spend.rate_rps:g} req/s (the budget "
                f"{verdict}); {_money(spend.ceiling)} with every allowed instance busy all month."
            )
    if spend is not None and not budgets:
        lines.append(f"Cost model: {_money(spend.expected)} a month at {spend.rate_rps:g} req/s.")
    return lines
