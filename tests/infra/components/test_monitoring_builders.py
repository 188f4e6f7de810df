"""The monitoring component's pure builders: burn rates, SLOs, alerts, budget, dashboard."""

from __future__ import annotations

import json
import re

import pytest

from infra.components.monitoring import alerts, budget, catalog, dashboard, probes, promql_alerts, slo

PERIOD = 30


def test_burn_rates_are_the_sre_workbook_pair():
    fast, slow = slo.BURN_RATE_WINDOWS
    # 2 % of a 30-day budget in 1 h, and 5 % in 6 h.
    assert (fast.burn_rate(PERIOD), fast.long_window_s, fast.short_window_s) == (14.4, 3600, 300)
    assert (slow.burn_rate(PERIOD), slow.long_window_s, slow.short_window_s) == (6.0, 21600, 1800)
    assert slow.burn_rate(7) == pytest.approx(1.4)


def test_burn_rate_conditions_use_both_windows_on_the_slo():
    name = "projects/p/services/qa/serviceLevelObjectives/availability"
    conditions = slo.burn_rate_conditions(name, slo.BURN_RATE_WINDOWS[0], PERIOD)
    filters = [c["condition_threshold"]["filter"] for c in conditions]
    assert filters == [f'select_slo_burn_rate("{name}", "3600s")', f'select_slo_burn_rate("{name}", "300s")']
    assert {c["condition_threshold"]["threshold_value"] for c in conditions} == {14.4}


def test_slo_args_per_kind():
    availability = slo.slo_args(slo.SloSpec("availability", 0.995, PERIOD))
    latency = slo.slo_args(slo.SloSpec("latency", 0.95, PERIOD, latency_threshold_ms=800))
    assert availability["basic_sli"] == {"availability": {"enabled": True}}
    assert latency["basic_sli"] == {"latency": {"threshold": "0.8s"}}
    assert (latency["goal"], latency["rolling_period_days"], latency["slo_id"]) == (0.95, PERIOD, "latency")
    service = slo.generic_service_args("qa", "europe-west1")
    assert service["basic_service"] == {
        "service_type": "CLOUD_RUN",
        "service_labels": {"service_name": "qa", "location": "europe-west1"},
    }


def test_cloud_run_alerts_follow_the_settings():
    specs = {s.key: s for s in alerts.cloud_run_alerts("qa", max_instances=7, model_load_seconds=25)}
    assert set(specs) == {"instances-at-max", "slow-cold-starts", "overload", "memory-near-limit"}
    at_max = specs["instances-at-max"].conditions[0]["condition_threshold"]
    assert (at_max["threshold_value"], at_max["comparison"]) == (7, "COMPARISON_GE")
    startup = specs["slow-cold-starts"].conditions[0]["condition_threshold"]
    assert startup["threshold_value"] == 25_000  # the metric is in ms
    overload = specs["overload"].conditions[0]["condition_threshold"]
    assert 'one_of("429", "503")' in overload["filter"]
    assert "response_code" not in overload["denominator_filter"]
    for spec in specs.values():
        assert "Check first" in spec.documentation
        assert all(
            'resource.label.service_name="qa"' in c["condition_threshold"]["filter"] for c in spec.conditions
        )


def test_knative_alerts_and_burn_rates_scope_the_namespace():
    specs = promql_alerts.knative_alerts("qa", "models")
    assert {s.key for s in specs} == {"pod-restarts", "oom-kills", "pending-pods", "queueing"}
    burn = promql_alerts.knative_burn_rate_alerts("qa", "models", 0.99, PERIOD)
    assert [s.combiner for s in burn] == ["AND", "AND"]
    queries = [
        c["condition_prometheus_query_language"]["query"] for s in (*specs, *burn) for c in s.conditions
    ]
    assert all('namespace="models"' in q or 'namespace_name="models"' in q for q in queries)
    fast = [c["condition_prometheus_query_language"]["query"] for c in burn[0].conditions]
    assert "[60m]" in fast[0] and "[5m]" in fast[1] and "> 14.4 * 0.01" in fast[0]


def test_uptime_check_authenticates_only_private_services():
    resource = probes.cloud_run_resource("qa", "p", "europe-west1")
    public = probes.uptime_check_args("qa", resource, authenticated=False)
    private = probes.uptime_check_args("qa", resource, authenticated=True)
    assert "service_agent_authentication" not in public["http_check"]
    assert private["http_check"]["service_agent_authentication"] == {"type": "OIDC_TOKEN"}
    assert (
        private["http_check"]["path"] == "/health"
        and private["monitored_resource"]["type"] == "cloud_run_revision"
    )
    assert probes.monitoring_agent("123") == (
        "serviceAccount:service-123@gcp-sa-monitoring-notification.iam.gserviceaccount.com"
    )


def test_budget_amount_and_thresholds():
    args = budget.budget_args("0123-4567-89AB", "projects/42", 150.25, ["channel"], "qa monthly budget")
    assert args["amount"] == {"specified_amount": {"units": "150", "nanos": 250_000_000}}
    assert [r["threshold_percent"] for r in args["threshold_rules"]] == [0.5, 0.9, 1.0]
    assert args["budget_filter"]["projects"] == ["projects/42"]
    assert args["all_updates_rule"]["monitoring_notification_channels"] == ["channel"]
    assert budget.budget_args("a", "projects/1", 100, [], "x")["amount"] == {
        "specified_amount": {"units": "100"}
    }


@pytest.mark.parametrize("widgets", [dashboard.cloud_run_widgets("qa"), dashboard.knative_widgets("models")])
def test_dashboard_tiles_form_a_grid_without_overlap(widgets):
    body = json.loads(dashboard.dashboard_json("qa", widgets))
    tiles = body["mosaicLayout"]["tiles"]
    cells = {
        (t["xPos"] + dx, t["yPos"] + dy)
        for t in tiles
        for dx in range(t["width"])
        for dy in range(t["height"])
    }
    assert len(cells) == sum(t["width"] * t["height"] for t in tiles)  # no two tiles share a cell
    assert all(t["xPos"] + t["width"] <= body["mosaicLayout"]["columns"] for t in tiles)
    titles = " | ".join(t["widget"]["title"] for t in tiles).lower()
    for topic in ("status class", "p50 / p95 / p99", "queue time"):
        assert topic in titles


def test_cloud_run_dashboard_covers_the_issue_list():
    titles = [w["title"].lower() for w in dashboard.cloud_run_widgets("qa")]
    for topic in ("status class", "latency", "instances", "cold starts", "cpu", "memory", "queue time"):
        assert any(topic in t for t in titles), topic


METRIC_TYPE = re.compile(r'metric\.type=\\?"([^"\\]+)')  # also inside JSON strings (\")
PROMQL_NAME = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{")


def metric_names_in(text: str) -> set[str]:
    """Cloud Monitoring metric types in filters, and metric names in PromQL selectors."""
    return set(METRIC_TYPE.findall(text)) | set(PROMQL_NAME.findall(text)) - {"by", "on"}


def test_every_metric_the_builders_name_is_catalogued():
    texts = [
        json.dumps(
            [s.conditions for s in alerts.cloud_run_alerts("qa", max_instances=2, model_load_seconds=9)]
        ),
        json.dumps(alerts.uptime_conditions("check", catalog.CLOUD_RUN_REVISION)),
        json.dumps([s.conditions for s in promql_alerts.knative_alerts("qa", "m")]),
        json.dumps([s.conditions for s in promql_alerts.knative_burn_rate_alerts("qa", "m", 0.99, 30)]),
        dashboard.dashboard_json("a", dashboard.cloud_run_widgets("qa")),
        dashboard.dashboard_json("b", dashboard.knative_widgets("m")),
    ]
    named = set().union(*(metric_names_in(t) for t in texts))
    assert named - set(catalog.METRICS) == set()
    assert len(named) >= 15  # the regexes really find them
    for metric in catalog.METRICS.values():
        assert metric.doc.startswith(("https://", "docs/"))


def test_docs_tables_are_generated_from_the_builders():
    from pathlib import Path

    from infra.components.monitoring import reference

    doc = (Path(__file__).resolve().parents[3] / "docs" / "observability.md").read_text()
    assert reference.block(doc) == reference.tables(), (
        "regenerate: python -m infra monitoring-tables --write docs/observability.md"
    )


def test_the_policy_pack_keys_on_the_api_the_stack_enables():
    from policy import tokens

    assert tokens.BUDGET_API == budget.BUDGET_API


def test_queueing_alert_fires_on_either_queue_alone():
    [queueing] = [s for s in promql_alerts.knative_alerts("qa", "m") if s.key == "queueing"]
    query = queueing.conditions[0]["condition_prometheus_query_language"]["query"]
    # A sum over a metric nobody exports is empty, and empty + anything is empty: each side
    # must fall back to 0, or a missing queue-proxy metric would silence the service's queue.
    assert query.count("or vector(0)") == 2
