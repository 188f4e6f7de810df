"""SLOs on the Cloud Run service and their multi-window, multi-burn-rate alerts.

The alerting follows the SRE workbook ("Alerting on SLOs", its recommended multiwindow,
multi-burn-rate setup): page when a large share of the error budget burns fast, open a ticket
when a smaller share burns over hours. Each alert needs BOTH its long window (the budget really
is burning) and a short one a twelfth as long (it is still burning now, so the alert resets
soon after a fix). The burn rate that spends `budget_share` of a `period_days` budget in
`long_window` is share × period / window, computed here rather than copied as constants.
Pure builders: plain dicts of pulumi-gcp inputs, tested without Pulumi.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

HOUR_S = 3600


@dataclass(frozen=True)
class BurnRateWindow:
    name: str  # "fast" | "slow"
    budget_share: float  # the share of the period's error budget this alert guards
    long_window_s: int
    severity: str  # Cloud Monitoring severity: the fast burn pages, the slow one is a ticket

    @property
    def short_window_s(self) -> int:
        return self.long_window_s // 12

    def burn_rate(self, period_days: int) -> float:
        return round(self.budget_share * period_days * 24 * HOUR_S / self.long_window_s, 3)


BURN_RATE_WINDOWS = (
    BurnRateWindow("fast", 0.02, 1 * HOUR_S, "CRITICAL"),
    BurnRateWindow("slow", 0.05, 6 * HOUR_S, "WARNING"),
)


@dataclass(frozen=True)
class SloSpec:
    key: str  # "availability" | "latency": resource names and the SLO id
    goal: float  # e.g. 0.995
    period_days: int
    latency_threshold_ms: int = 0  # latency SLOs only

    @property
    def title(self) -> str:
        if self.key == "latency":
            return f"{self.goal:.2%} of requests under {self.latency_threshold_ms} ms"
        return f"{self.goal:.2%} of requests succeed (non-5xx)"


def generic_service_args(service_name: str, region: str, name_region: bool = False) -> dict[str, Any]:
    """The Monitoring service for a Cloud Run service: a basic service, so Cloud Monitoring derives
    the SLIs (request_count, request_latencies) itself. With several regions, each has its own
    (`name_region` names it in the title)."""
    return {
        "display_name": f"{service_name} (Cloud Run{f', {region}' if name_region else ''})",
        "basic_service": {
            "service_type": "CLOUD_RUN",
            "service_labels": {"service_name": service_name, "location": region},
        },
    }


def slo_args(spec: SloSpec) -> dict[str, Any]:
    if spec.key == "latency":
        sli = {"latency": {"threshold": f"{spec.latency_threshold_ms / 1000:g}s"}}
    else:
        sli = {"availability": {"enabled": True}}
    return {
        "slo_id": spec.key,
        "display_name": spec.title,
        "goal": spec.goal,
        "rolling_period_days": spec.period_days,
        "basic_sli": sli,
    }


def burn_rate_filter(slo_name: str, lookback_s: int) -> str:
    return f'select_slo_burn_rate("{slo_name}", "{lookback_s}s")'


def burn_rate_conditions(slo_name: str, window: BurnRateWindow, period_days: int) -> list[dict[str, Any]]:
    """Both windows over the same threshold (the policy ANDs them)."""
    rate = window.burn_rate(period_days)
    return [
        {
            "display_name": f"burn rate > {rate:g} over {lookback // 60} min",
            "condition_threshold": {
                "filter": burn_rate_filter(slo_name, lookback),
                "comparison": "COMPARISON_GT",
                "threshold_value": rate,
                "duration": "0s",
            },
        }
        for lookback in (window.long_window_s, window.short_window_s)
    ]


def burn_rate_documentation(spec: SloSpec, window: BurnRateWindow, service_name: str) -> str:
    hours = window.long_window_s // HOUR_S
    return (
        f"{service_name} is burning its {spec.key} error budget: at this rate "
        f"{window.budget_share:.0%} of the {spec.period_days}-day budget goes in {hours} h "
        f"(SLO: {spec.title}).\n\n"
        "Check first: the dashboard's request-rate-by-status and latency charts for when it started; "
        "a new revision (roll back with `make rollback`); the 429/503 alert (overload) and the "
        "instance count (at maxInstances?); then the service's error log lines "
        '(`jsonPayload.logger="service.requests" AND severity>=WARNING`).'
    )
