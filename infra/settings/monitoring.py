"""The monitoring settings (docs/observability.md): on/off, channels, SLO targets, budget."""

from __future__ import annotations

import re

from infra import limits
from infra.settings.parse import RawConfig
from infra.settings.schema import LIST_EXAMPLES, MonitoringSettings, ServiceSettings

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
BILLING_ACCOUNT = re.compile(r"^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$")
# The cold-start and queue-time metrics read the service's request log, written at INFO.
REQUEST_LOG_LEVELS = ("DEBUG", "INFO")
MONTHLY_BUDGET_MAX = 10_000_000


def monitoring_settings(r: RawConfig, service: ServiceSettings) -> MonitoringSettings:
    monitoring = MonitoringSettings(
        enabled=r.flag("monitoring"),
        alert_emails=r.strings("alertEmails", LIST_EXAMPLES["alertEmails"]),
        availability_goal=r.fraction("sloAvailabilityGoal", limits.SLO_GOAL_MAX),
        latency_goal=r.fraction("sloLatencyGoal", limits.SLO_GOAL_MAX),
        latency_threshold_ms=r.integer(
            "sloLatencyThresholdMs",
            1,
            max(service.timeout_seconds, 1) * 1000,
            ": at most timeoutSeconds, in ms",
        ),
        period_days=r.integer("sloPeriodDays", 1, limits.SLO_PERIOD_MAX_DAYS),
        billing_account=r.text("billingAccount").strip().upper(),
        monthly_budget=r.integer("monthlyBudget", 0, MONTHLY_BUDGET_MAX),
    )
    for email in monitoring.alert_emails:
        if not EMAIL.match(email):
            r.fail("alertEmails", email, "an e-mail address like oncall@example.com")
    if monitoring.billing_account and not BILLING_ACCOUNT.match(monitoring.billing_account):
        r.fail(
            "billingAccount",
            monitoring.billing_account,
            "empty, or a billing account id like 0X0X0X-0X0X0X-0X0X0X",
        )
    if monitoring.billing_account and monitoring.monthly_budget == 0:
        r.fail("monthlyBudget", 0, "a monthly amount above 0 with billingAccount set (the budget it guards)")
    if monitoring.monthly_budget and not monitoring.billing_account:
        r.fail("billingAccount", "", f"the billing account for monthlyBudget {monitoring.monthly_budget}")
    if monitoring.enabled and service.log_level not in REQUEST_LOG_LEVELS:
        r.fail(
            "logLevel",
            service.log_level,
            "INFO or DEBUG with monitoring on: the cold-start and queue-time metrics read the request log",
        )
    if monitoring.budget and not monitoring.enabled:
        r.fail(
            "monitoring",
            False,
            "true with billingAccount and monthlyBudget: the budget is part of the monitoring",
        )
    return monitoring
