"""The harness against the real service (`python -m service`) on a generated tiny model."""

import json
import time
from collections import Counter

import pytest

from bench.load import LoadConfig, run_load
from bench.local_service import LocalService
from bench.proxy import FrontEndProxy
from bench.report import build_report
from qaclient.payloads import DEFAULT_PAYLOAD

pytestmark = pytest.mark.slow  # real service processes


@pytest.fixture
def two_services(tiny_model_dir, tmp_path):
    services = [LocalService(tiny_model_dir, tmp_path / f"service-{i}.log") for i in (1, 2)]
    try:
        for service in services:
            service.start()  # both start at once: the slow part (imports, load) overlaps
        for service in services:
            service.wait_ready()
        # "Ready before the run" is read from each instance's ready age against the time a request
        # spent outside the app: a run started the moment the second turned ready could see its
        # first request outside the app (proxy, a loaded host) longer than that age, a cold start.
        time.sleep(1.0)
        yield services
    finally:
        for service in services:
            service.stop()


def test_two_service_processes_taking_turns(two_services):
    missing_context = {"question": "What is sugar?"}
    with FrontEndProxy() as proxy:
        for service in two_services:
            proxy.add(service.url)
        result = run_load(
            LoadConfig(
                url=proxy.url,
                duration_s=60,
                concurrency=1,
                max_requests=8,
                payloads=[DEFAULT_PAYLOAD, DEFAULT_PAYLOAD, missing_context, DEFAULT_PAYLOAD],
            ),
            progress=False,
        )
    rows = result.records
    # Dealt in turn: instance ids alternate, each process counts its own requests.
    ids = [r.instance_id for r in rows]
    assert len(set(ids)) == 2 and ids == ids[:2] * 4
    assert [r.instance_request_count for r in rows] == [1, 1, 2, 2, 3, 3, 4, 4]
    # Bodies 2 and 6 lack the context: a client error with a JSON message, never a 5xx.
    statuses = Counter(r.status for r in rows)
    assert statuses[200] == 6
    bad = [r for r in rows if r.status != 200]
    assert [r.seq for r in bad] == [2, 6]
    assert all(400 <= r.status < 500 and r.error for r in bad)
    for r in rows:
        assert r.server_total_ms is not None and r.server_inference_ms is not None
        assert 0 <= r.server_inference_ms <= r.server_total_ms <= r.latency_ms

    report = build_report(rows)
    assert report["requests"]["ok"] == 6
    assert report["status_counts"]["200"] == 6
    assert report["instances"]["seen"] == 2
    # Both were ready before the run: their first requests waited for nothing (the service's
    # X-Instance-Ready-Age-Ms exceeds the time those requests spent outside the app).
    assert all(r.instance_ready_age_ms is not None and r.instance_ready_age_ms > 0 for r in rows)
    assert report["cold_starts"]["count"] == 0
    assert report["cold_starts"]["first_requests_on_ready_instances"] == 2
    assert report["instances"]["started_during_run"] == 0
    assert report["split"]["count"] == 6


def test_demo_from_zero_shows_the_start_up_as_a_cold_start(tiny_model_dir, tmp_path, capsys):
    from bench.__main__ import main

    out = tmp_path / "demo"
    # A generous grace: on a busy machine the process may take longer to start than the run.
    code = main(
        [
            "demo",
            "--model-dir",
            str(tiny_model_dir),
            "--from-zero",
            "--rps",
            "4",
            "--duration",
            "2",
            "--grace",
            "120",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0, capsys.readouterr().err
    report = json.loads((out / "report.json").read_text())
    assert report["requests"]["scheduled"] == 8
    cold = report["cold_starts"]
    assert cold["count"] == 1
    # The first request waited in the front end for the process to start: it spent longer outside
    # the app than the instance had been ready when it answered (its ready age says so, not a
    # time bound: how long a start takes depends on the machine).
    first = cold["events"][0]
    assert first["instance_request"] == 1 and first["overhead_ms"] > first["instance_ready_age_ms"] >= 0
    # Not asserted here: "start-up delayed" (a request standing out from the run's own median).
    # Every request of this 2 s run queues behind a start of several seconds, and once the instance
    # is up each also waits for the ones before it, so the 250 ms between sends is made up and
    # whether any request stands out by more than the threshold depends on the machine's speed
    # (on a loaded 2-vCPU host the first stood out by 0.30-0.92 s in 12 runs, and no request did
    # in 4 of 17 others). test_bench_report.py checks that analysis on fixed records.
    assert (out / "logs" / "service-1.log").is_file()


def test_benchmark_server_reports_the_workers_peak_memory_and_stops(tiny_model_dir, tmp_path):
    from bench.local_service import peak_rss_mb, stop_process
    from bench.studies.serving import start_server

    process, port = start_server(tiny_model_dir, {"NUM_THREADS": "1"}, tmp_path / "server.log")
    try:
        peaks = peak_rss_mb(process.pid)
        # the worker has imported the app and loaded the model; the master only what loading needs
        assert peaks["worker_mb"] > 20
        assert peaks["master_mb"] > 5
        assert peaks["worker_mb"] != peaks["master_mb"]
    finally:
        stop_process(process)
    assert process.returncode is not None
    assert port > 0
