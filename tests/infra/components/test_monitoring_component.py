"""ServiceMonitoring against the mocks: which resources each platform and setting declares, wired
to each other as the API needs, with input names the provider schemas know."""

from __future__ import annotations

import json

import pytest
from infra_helpers import declare
from provider_schema import problems

from infra.components.monitoring import ServiceMonitoring, ServiceMonitoringArgs, catalog, log_metrics

ALERT = "gcp:monitoring/alertPolicy:AlertPolicy"


def monitoring(**overrides) -> ServiceMonitoringArgs:
    args = {
        "project": "proj",
        "region": "europe-west1",
        "service_name": "qa",
        "platform": "cloudrun",
        "public": True,
        "max_instances": 10,
        "model_load_seconds": 30,
        "alert_emails": ("oncall@example.com", "ml@example.com"),
        "availability_goal": 0.995,
        "latency_goal": 0.95,
        "latency_threshold_ms": 1000,
        "slo_period_days": 30,
        "labels": {"app": "qa", "stack": "test"},
        **overrides,
    }
    return ServiceMonitoringArgs(**args)


def run(args: ServiceMonitoringArgs):
    return declare(lambda: ServiceMonitoring("qa-monitoring", args))


def test_cloud_run_declares_the_full_set_with_schema_valid_inputs():
    declared = run(monitoring(billing_account="0123-4567-89AB", monthly_budget=200))
    types = [r.type for r in declared.registrations]
    assert types.count("gcp:monitoring/notificationChannel:NotificationChannel") == 2
    assert types.count("gcp:monitoring/slo:Slo") == 2
    assert types.count(ALERT) == 4 + 4 + 1  # burn rates, platform alerts, uptime
    for t in (
        "gcp:monitoring/genericService:GenericService",
        "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig",
        "gcp:monitoring/dashboard:Dashboard",
        "gcp:billing/budget:Budget",
    ):
        assert types.count(t) == 1, t
    # cold starts, queue time, and one distribution per start-up phase
    assert types.count("gcp:logging/metric:Metric") == 2 + len(log_metrics.STARTUP_PHASES)
    for r in declared.registrations:
        assert r.parent in (None, "qa-monitoring")
        if r.type.startswith("gcp:"):
            assert problems(r.type, r.inputs) == [], r.name


def test_burn_rate_alerts_select_the_slo_they_guard():
    declared = run(monitoring())
    slo_name = "projects/proj/services/qa/serviceLevelObjectives/availability"
    fast = declared["qa-monitoring-alert-availability-burn-fast"].inputs
    assert fast["combiner"] == "AND"
    filters = [c["conditionThreshold"]["filter"] for c in fast["conditions"]]
    assert filters == [
        f'select_slo_burn_rate("{slo_name}", "3600s")',
        f'select_slo_burn_rate("{slo_name}", "300s")',
    ]
    channels = {r.name for r in declared.of_type("gcp:monitoring/notificationChannel:NotificationChannel")}
    assert len(fast["notificationChannels"]) == len(channels) == 2
    assert all(c.startswith("projects/proj/notificationChannels/") for c in fast["notificationChannels"])


def test_uptime_alert_names_the_check_and_private_services_authenticate():
    public = run(monitoring(public=True))
    assert "qa-monitoring-uptime-invoker" not in public.names()
    private = run(monitoring(public=False))
    check = private["qa-monitoring-uptime"]
    assert check.inputs["httpCheck"]["serviceAgentAuthentication"] == {"type": "OIDC_TOKEN"}
    grant = private["qa-monitoring-uptime-invoker"]
    assert (
        grant.inputs["role"] == "roles/run.invoker"
        and "gcp-sa-monitoring-notification" in grant.inputs["member"]
    )
    assert "qa-monitoring-uptime-invoker" in check.dependencies
    alert = private["qa-monitoring-alert-uptime"].inputs["conditions"][0]["conditionThreshold"]["filter"]
    assert f'check_id="{check.inputs["displayName"].split()[0]}-' in alert


def test_budget_only_with_billing_account_and_amount():
    assert not run(monitoring()).of_type("gcp:billing/budget:Budget")
    assert not run(monitoring(billing_account="0123-4567-89AB")).of_type("gcp:billing/budget:Budget")
    budget = run(monitoring(billing_account="0123-4567-89AB", monthly_budget=80)).of_type(
        "gcp:billing/budget:Budget"
    )[0]
    assert budget.inputs["billingAccount"] == "0123-4567-89AB"
    assert budget.inputs["budgetFilter"]["projects"][0].startswith("projects/")
    assert len(budget.inputs["allUpdatesRule"]["monitoringNotificationChannels"]) == 2


def test_knative_gets_pod_monitoring_and_promql_alerts():
    declared = run(
        monitoring(platform="knative", namespace="models", url="http://qa.models.34.1.2.3.sslip.io")
    )
    pod_monitoring = declared["qa-monitoring-pod-monitoring"]
    assert pod_monitoring.type == "kubernetes:monitoring.googleapis.com/v1:PodMonitoring"
    assert pod_monitoring.inputs["spec"]["endpoints"][0]["path"] == "/metrics"
    assert not declared.of_type("gcp:monitoring/slo:Slo")
    policies = declared.of_type(ALERT)
    assert {p.name.removeprefix("qa-monitoring-alert-") for p in policies} == {
        "availability-burn-fast",
        "availability-burn-slow",
        "pod-restarts",
        "oom-kills",
        "pending-pods",
        "queueing",
        "uptime",
    }
    for policy in policies:
        assert problems(policy.type, policy.inputs) == []
    check = declared["qa-monitoring-uptime"].inputs
    assert check["monitoredResource"] == {
        "type": catalog.UPTIME_URL,
        "labels": {"project_id": "proj", "host": "qa.models.34.1.2.3.sslip.io"},
    }
    assert check["httpCheck"]["useSsl"] is False and check["httpCheck"]["port"] == 80


def test_private_knative_has_no_uptime_check():
    declared = run(
        monitoring(platform="knative", namespace="models", public=False, url="http://qa.models.svc")
    )
    assert "qa-monitoring-uptime" not in declared.names()


@pytest.mark.parametrize("platform", ["cloudrun", "knative"])
def test_dashboard_is_valid_json(platform):
    declared = run(monitoring(platform=platform, namespace="models"))
    body = json.loads(declared["qa-monitoring-dashboard"].inputs["dashboardJson"])
    assert len(body["mosaicLayout"]["tiles"]) >= 6


def test_the_schema_check_finds_misnamed_and_missing_inputs():
    bad = {"displayName": "x", "conditions": [{"conditionThreshold": {"filtre": "a", "comparison": "GT"}}]}
    found = problems(ALERT, bad)
    assert any("required input combiner" in p for p in found)
    assert any(".filtre: no such input" in p for p in found)
    assert any("'GT' is not one of" in p for p in found)
