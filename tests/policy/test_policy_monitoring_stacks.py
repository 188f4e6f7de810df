"""The monitoring rules on whole renders: prod on either platform passes with the monitoring the
stack declares and fails without it; a billing account brings its budget."""

from __future__ import annotations

import pytest
from policy_helpers import render_resources

from policy.catalog import BY_NAME
from policy.rule import evaluate

pytestmark = pytest.mark.slow  # each case renders a stack

KNATIVE_PROD = {"platform": "knative", "maxInstances": "3"}
BILLING = {"billingAccount": "01AB23-45CD67-89EF01", "monthlyBudget": "100"}


def violations(rule: str, stack: str, **overrides: str) -> list[str]:
    return [v.resource for v in evaluate([BY_NAME[rule]], render_resources(stack, **overrides))]


@pytest.mark.parametrize("overrides", [{}, KNATIVE_PROD], ids=["cloudrun", "knative"])
def test_prod_is_watched_only_with_monitoring_on(overrides):
    assert violations("monitoring-prod-slo-alerts", "prod", **overrides) == []
    assert violations("monitoring-prod-slo-alerts", "prod", **overrides, monitoring="false") == ["qa-service"]


def test_a_billing_account_brings_its_budget():
    resources = render_resources("prod", **BILLING)
    assert {r.type for r in resources} >= {"gcp:billing/budget:Budget"}
    assert any(r.inputs.get("service") == "billingbudgets.googleapis.com" for r in resources)
    assert evaluate([BY_NAME["monitoring-budget"]], resources) == []
    assert violations("monitoring-budget", "dev", monitoring="true", **BILLING) == []
