"""Monitoring in the offline render of every stack: what each declares, schema-valid inputs, the
settings that switch parts on, the review table, and bad settings refused in one line."""

from __future__ import annotations

import json
import re

import pytest
from infra_helpers import cli, rendered
from provider_schema import problems

from infra.components.monitoring import catalog
from infra.settings import SettingsError

pytestmark = pytest.mark.slow  # every test here renders a whole stack

BILLING = {"billingAccount": "01AB23-45CD67-89EF01", "monthlyBudget": "40"}
ALERT = "gcp:monitoring/alertPolicy:AlertPolicy"


def of_type(rendering, resource_type: str) -> list[dict]:
    return [r for r in rendering.resources if r["type"] == resource_type]


def count(rendering, resource_type: str) -> int:
    return len(of_type(rendering, resource_type))


def test_prod_renders_the_full_set():
    prod = rendered("prod")
    assert count(prod, "gcp:monitoring/slo:Slo") == 2
    assert count(prod, ALERT) == 9
    assert count(prod, "gcp:monitoring/notificationChannel:NotificationChannel") == 1
    assert count(prod, "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig") == 1
    assert count(prod, "gcp:monitoring/dashboard:Dashboard") == 1
    # cold starts and queue time, and one distribution per start-up phase
    assert count(prod, "gcp:logging/metric:Metric") == 2 + len(catalog.STARTUP_PHASES)
    assert count(prod, "gcp:billing/budget:Budget") == 0  # no billing account in the shipped file
    # prod is private: the uptime check authenticates, and its agent may invoke the service.
    [check] = of_type(prod, "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig")
    assert check["inputs"]["httpCheck"]["serviceAgentAuthentication"] == {"type": "OIDC_TOKEN"}
    assert any(r["name"] == "qa-monitoring-uptime-invoker" for r in prod.resources)
    apis = {r["inputs"]["service"] for r in of_type(prod, "gcp:projects/service:Service")}
    assert {"monitoring.googleapis.com", "logging.googleapis.com"} <= apis


def test_dev_opts_in_with_one_setting():
    assert not [r for r in rendered("dev").resources if "monitoring" in r["type"]]
    dev = rendered("dev", {"monitoring": "true"})
    assert count(dev, "gcp:monitoring/slo:Slo") == 2
    assert not any(r["name"].endswith("uptime-invoker") for r in dev.resources)  # dev is public
    assert count(dev, "gcp:monitoring/notificationChannel:NotificationChannel") == 0


def test_budget_with_billing_account_and_amount():
    dev = rendered("dev", {"monitoring": "true", "alertEmails": '["a@example.com"]', **BILLING})
    [budget] = of_type(dev, "gcp:billing/budget:Budget")
    assert budget["inputs"]["billingAccount"] == BILLING["billingAccount"]
    assert budget["inputs"]["amount"] == {"specifiedAmount": {"units": "40"}}
    assert len(budget["inputs"]["allUpdatesRule"]["monitoringNotificationChannels"]) == 1
    apis = {r["inputs"]["service"] for r in of_type(dev, "gcp:projects/service:Service")}
    assert "billingbudgets.googleapis.com" in apis


def test_knative_stack_monitoring():
    gke = rendered("gke", {"monitoring": "true"})
    [pod_monitoring] = of_type(gke, "kubernetes:monitoring.googleapis.com/v1:PodMonitoring")
    assert pod_monitoring["inputs"]["metadata"]["namespace"] == "qa"
    assert pod_monitoring["inputs"]["spec"]["selector"]["matchLabels"] == {
        "serving.knative.dev/service": "qa-gke"
    }
    promql = [
        c["conditionPrometheusQueryLanguage"]["query"]
        for p in of_type(gke, ALERT)
        for c in p["inputs"]["conditions"]
        if "conditionPrometheusQueryLanguage" in c
    ]
    assert len(promql) >= 8 and all('namespace="qa"' in q or 'namespace_name="qa"' in q for q in promql)
    assert count(gke, "gcp:monitoring/slo:Slo") == 0
    # The collectors may reach the metrics port, and kube-state-metrics' pod metrics are on.
    [policy] = of_type(gke, "kubernetes:networking.k8s.io/v1:NetworkPolicy")
    scrape = policy["inputs"]["spec"]["ingress"][-1]
    assert scrape["ports"] == [{"port": 8080, "protocol": "TCP"}, {"port": 9091, "protocol": "TCP"}]
    ports = [e["port"] for e in pod_monitoring["inputs"]["spec"]["endpoints"]]
    assert ports == [8080, 9091]
    assert scrape["from"][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "gmp-system"
    }
    [cluster] = of_type(gke, "gcp:container/cluster:Cluster")
    assert cluster["inputs"]["monitoringConfig"]["enableComponents"] == ["SYSTEM_COMPONENTS", "POD"]
    restarts = next(q for q in promql if "container_restart_count" in q)
    assert 'container_name="model"' in restarts


CASES = [
    ("dev", {}),
    ("prod", {}),
    ("gke", {}),
    ("dev", {"monitoring": "true", **BILLING}),
    ("gke", {"monitoring": "true"}),
]


@pytest.mark.parametrize(
    ("stack", "overrides"), CASES, ids=lambda c: json.dumps(c) if isinstance(c, dict) else c
)
def test_every_gcp_input_is_in_the_provider_schema(stack, overrides):
    for resource in rendered(stack, overrides).resources:
        if resource["type"].startswith("gcp:"):
            assert problems(resource["type"], resource["inputs"]) == [], resource["name"]


METRIC_TYPE = re.compile(r'metric\.type=\\*"([^"\\]+)')
PROMQL_NAME = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{")


@pytest.mark.parametrize(("stack", "overrides"), [("prod", {}), ("gke", {"monitoring": "true"})])
def test_every_metric_a_rendered_filter_names_is_catalogued(stack, overrides):
    text = json.dumps([r["inputs"] for r in rendered(stack, overrides).resources])
    named = set(METRIC_TYPE.findall(text)) | set(PROMQL_NAME.findall(text))
    assert len(named) >= 7
    assert named - set(catalog.METRICS) == set()


def test_markdown_review_lists_alerts_slos_and_budget_beside_the_cost():
    result = cli("render", "prod", "--format", "markdown", *(f"--set={k}={v}" for k, v in BILLING.items()))
    assert result.returncode == 0, result.stderr
    section = result.stdout.split("### Monitoring", 1)[1].split("### Monthly cost", 1)[0]
    assert "| SLO | `availability` | 99.50% over 30 days" in section
    assert section.count("| alert |") == 9
    assert "burn rate > 14.4 over 60 min AND" in section
    assert "Budget: $40.00 a month, alerts at 50%, 90%, 100%" in section
    assert re.search(r"Cost model: \$[\d,.]+ a month at 1 req/s", section)


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"alertEmails": '["not-an-address"]'}, "alertEmails"),
        ({"sloAvailabilityGoal": "1"}, "sloAvailabilityGoal"),
        ({"sloLatencyGoal": "high"}, "sloLatencyGoal"),
        ({"sloPeriodDays": "31"}, "sloPeriodDays"),
        ({"billingAccount": "12345", "monthlyBudget": "10"}, "billingAccount"),
        ({"billingAccount": BILLING["billingAccount"]}, "monthlyBudget"),
        ({"monthlyBudget": "10"}, "billingAccount"),
        ({**BILLING, "monitoring": "false"}, "monitoring"),
        ({"logLevel": "WARNING"}, "logLevel"),
    ],
)
def test_bad_monitoring_settings_fail_in_one_line(overrides, key):
    with pytest.raises(SettingsError) as error:
        rendered("dev", {"monitoring": "true", **overrides})
    assert len(error.value.problems) == 1
    assert error.value.problems[0].startswith(f"{key}: ")
