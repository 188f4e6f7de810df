"""The logs-based metrics' filters against request log lines captured from the running service."""

from __future__ import annotations

import json

import pytest
import requests

from bench.local_service import LocalService
from infra.components.monitoring import log_metrics

SEED = {"context": "Roses are red, violets are blue, sugar is sweet, and so are you.", "question": "What?"}
RESOURCE = {"service_name": "qa", "revision_name": "qa-00001-abc", "location": "europe-west1"}


@pytest.fixture(scope="module")
def service_lines(baked_model_factory, tmp_path_factory) -> list[dict]:
    """The service's JSON log after a scrape, a probe and three /predict calls."""
    log = tmp_path_factory.mktemp("service") / "service.log"
    with LocalService(baked_model_factory("onnx", "fp32"), log, env={"LOG_LEVEL": "INFO"}) as service:
        service.wait_ready(120)
        with requests.Session() as http:
            http.get(service.url + "/metrics", timeout=30)
            for _ in range(3):
                assert http.post(service.url + "/predict", json=SEED, timeout=30).status_code == 200
    return [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]


@pytest.fixture(scope="module")
def request_lines(service_lines) -> list[dict]:
    return [line for line in service_lines if line.get("logger") == log_metrics.REQUEST_LOGGER]


def entries(lines: list[dict]) -> list[dict]:
    return [log_metrics.as_log_entry(line, RESOURCE) for line in lines]


@pytest.mark.slow
def test_cold_start_filter_matches_only_the_first_request(request_lines):
    predicts = [e for e in entries(request_lines) if e["httpRequest"]["requestUrl"] == "/predict"]
    assert len(predicts) == 3
    matched = [log_metrics.matches(e, log_metrics.COLD_START_CLAUSES) for e in predicts]
    assert matched == [True, False, False]


@pytest.mark.slow
def test_queue_time_filter_and_extractor_read_real_fields(request_lines):
    predicts = [e for e in entries(request_lines) if log_metrics.matches(e, log_metrics.QUEUE_TIME_CLAUSES)]
    assert len(predicts) == 3
    for entry in predicts:
        assert isinstance(log_metrics.field_value(entry, log_metrics.QUEUE_FIELD), float)
    args = log_metrics.queue_time_metric_args("qa")
    assert args["value_extractor"] == f"EXTRACT({log_metrics.QUEUE_FIELD})"


@pytest.mark.slow
def test_filters_are_the_clauses_and_resource_labels_exist(request_lines):
    entry = entries(request_lines)[0]
    for clauses, args in (
        (log_metrics.COLD_START_CLAUSES, log_metrics.cold_start_metric_args("qa")),
        (log_metrics.QUEUE_TIME_CLAUSES, log_metrics.queue_time_metric_args("qa")),
    ):
        assert args["filter"] == " AND ".join(
            c.text() for c in (*log_metrics.resource_clauses("qa"), *clauses)
        )
        for clause in log_metrics.resource_clauses("qa"):
            assert log_metrics.field_value(entry, clause.field) == clause.value
    # The label extractor reads a label every cloud_run_revision entry carries.
    extractor = log_metrics.cold_start_metric_args("qa")["label_extractors"]["revision"]
    assert extractor == "EXTRACT(resource.labels.revision_name)"


def test_special_fields_leave_the_payload():
    entry = log_metrics.as_log_entry({"severity": "INFO", "httpRequest": {"status": 200}, "a": 1}, RESOURCE)
    assert entry["jsonPayload"] == {"a": 1} and entry["httpRequest"]["status"] == 200
    assert not log_metrics.matches(entry, (log_metrics.Clause("jsonPayload.severity", "INFO"),))


@pytest.mark.slow
def test_startup_phase_metrics_read_the_one_start_up_line(service_lines):
    matched = [e for e in entries(service_lines) if log_metrics.matches(e, log_metrics.STARTUP_CLAUSES)]
    assert len(matched) == 1  # one start, one line
    for phase in log_metrics.STARTUP_PHASES:
        args = log_metrics.startup_phase_metric_args("qa", phase)
        field = args["value_extractor"].removeprefix("EXTRACT(").removesuffix(")")
        assert isinstance(log_metrics.field_value(matched[0], field), float), phase
        assert args["filter"] == log_metrics.log_filter("qa", log_metrics.STARTUP_CLAUSES)
