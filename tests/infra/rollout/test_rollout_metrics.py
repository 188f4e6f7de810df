"""Canary error counts: Cloud Monitoring's query and answer, and the gate's own probe counts."""

from __future__ import annotations

from infra.rollout.metrics import ProbeSource, error_ratio, monitoring_query, parse_time_series


def test_monitoring_query_filters_on_the_candidate_revision_and_groups_by_code_class():
    query = monitoring_query("proj", "qa", "qa-rNEW", since=1_000_000.0, until=1_000_300.0)
    assert 'metric.type="run.googleapis.com/request_count"' in query["filter"]
    assert 'resource.labels.revision_name="qa-rNEW"' in query["filter"]
    assert 'resource.labels.service_name="qa"' in query["filter"]
    assert query["aggregation.groupByFields"] == "metric.labels.response_code_class"
    assert query["aggregation.alignmentPeriod"] == "300s"
    assert query["interval.endTime"] == "1970-01-12T13:51:40Z"


def test_parse_time_series_sums_points_per_class():
    body = {
        "timeSeries": [
            {
                "metric": {"labels": {"response_code_class": "2xx"}},
                "points": [{"value": {"int64Value": "97"}}],
            },
            {
                "metric": {"labels": {"response_code_class": "5xx"}},
                "points": [{"value": {"int64Value": "2"}}, {"value": {"int64Value": "1"}}],
            },
        ]
    }
    counts = parse_time_series(body)
    assert counts == {"2xx": 97, "5xx": 3}
    assert error_ratio(counts) == (3, 100)
    assert parse_time_series({}) == {}


def test_probe_source_counts_by_revision_and_class():
    probes = ProbeSource()
    for status in (200, 200, 503, 400):
        probes.record("qa-rNEW", status)
    probes.record("qa-rOLD", 500)
    assert probes.request_counts("qa-rNEW", 0, 1) == {"2xx": 2, "5xx": 1, "4xx": 1}
    assert error_ratio(probes.request_counts("qa-rNEW", 0, 1)) == (1, 4)
    assert probes.request_counts("qa-rX", 0, 1) == {}
