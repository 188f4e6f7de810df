"""Report arithmetic on hand-built records (no network): cold starts, split, tallies."""

import json

from bench import records as rec
from bench.report import ColdStartRule, build_report, write_report
from bench.report_markdown import render_markdown


def ok(seq, sent, latency, *at):
    """A 2xx record; `at` = (instance id, its request count, server total, inference)."""
    instance, count, total, inference = at or ("", None, None, None)
    return rec.RequestRecord(
        seq=seq,
        scheduled_s=sent,
        sent_s=sent,
        outcome=rec.OK,
        status=200,
        latency_ms=latency,
        instance_id=instance,
        instance_request_count=count,
        server_total_ms=total,
        server_inference_ms=inference,
    )


def scenario():
    """Instance A starts in the run; B was already up (count 50+); C starts at t = 5 s."""
    rows = [ok(i, i * 0.1, 20, "A", i + 1, 15, 12) for i in range(12)]  # warm: overhead 5
    rows[0].latency_ms = 900.0  # A's first: waited for the container (overhead 885)
    rows[11].latency_ms = 800.0  # count 12: past the window, not a start-up delay
    rows += [ok(20 + i, 2 + i * 0.1, 20, "B", 50 + i, 15, 12) for i in range(3)]
    rows += [
        ok(30, 5.0, 1500, "C", 1, 15, 12),  # cold start
        ok(31, 5.1, 700, "C", 2, 15, 12),  # queued behind the start-up
        ok(32, 5.2, 30, "C", 3, 400, 12),  # slow inside the app: server total 400
        ok(33, 5.3, 20, "C", 4, 15, 12),
        rec.RequestRecord(
            seq=34, scheduled_s=5.4, sent_s=5.4, outcome=rec.HTTP_ERROR, status=429, latency_ms=3
        ),
        rec.RequestRecord(seq=35, scheduled_s=5.5, outcome=rec.OVERFLOW),
        rec.RequestRecord(seq=36, scheduled_s=5.6, sent_s=5.6, outcome=rec.TIMEOUT, latency_ms=30000),
    ]
    return rows


def test_cold_starts_and_start_up_delays():
    report = build_report(scenario(), rule=ColdStartRule(window=10, threshold_ms=250))
    cold = report["cold_starts"]
    assert cold["count"] == 2
    assert [(e["instance_id"], e["seq"], e["latency_ms"]) for e in cold["events"]] == [
        ("A", 0, 900.0),
        ("C", 30, 1500.0),
    ]
    assert cold["latency_ms"]["max"] == 1500.0
    delayed = cold["startup_delayed"]
    # Warm medians (requests past each instance's first 10): overhead 5 ms, server total 15 ms.
    assert delayed["warm_median_overhead_ms"] == 5.0
    assert delayed["warm_median_server_total_ms"] == 15.0
    # A#1 (885 − 5), C#1 (1485 − 5), C#2 (685 − 5) by overhead; C#3 by server time (400 − 15).
    assert [(e["seq"], e["excess_ms"]) for e in delayed["events"]] == [
        (0, 880.0),
        (30, 1480.0),
        (31, 680.0),
        (32, 385.0),
    ]
    assert delayed["of_which_cold_starts"] == 2


def test_instances_seen_and_pre_existing():
    inst = build_report(scenario())["instances"]
    assert inst["seen"] == 3
    assert inst["started_during_run"] == 2
    by_id = {row["instance_id"]: row for row in inst["per_instance"]}
    assert by_id["B"]["first_request_count"] == 50
    assert by_id["B"]["started_during_run"] is False
    assert by_id["A"]["requests"] == 12
    assert by_id["C"]["requests"] == by_id["C"]["ok"] == 4  # the 429 came without an id


def test_tallies_and_throughput():
    report = build_report(scenario(), {"duration_s": 6})
    assert report["status_counts"] == {"200": 19, "429": 1, "overflow": 1, "timeout": 1}
    req = report["requests"]
    assert (req["scheduled"], req["sent"], req["answered"], req["ok"]) == (22, 21, 20, 19)
    assert (req["overflow"], req["timeout"], req["http_error"], req["cancelled"]) == (1, 1, 1, 0)
    # Window: t = 0 to the last response, the timeout at 5.6 + 30 s.
    assert report["throughput"]["window_s"] == 35.6
    assert report["throughput"]["ok_rps"] == round(19 / 35.6, 3)


def test_network_inference_split_adds_up():
    rows = [ok(0, 0, 100, "A", 1, 60, 50), ok(1, 1, 60, "A", 2, 40, 30)]
    split = build_report(rows)["split"]
    # means: latency 80, inference 40, app 50 − 40 = 10, outside the app 80 − 50 = 30
    assert split["mean_latency_ms"] == 80.0
    assert split["mean_ms"] == {"inference": 40.0, "queue": 0.0, "app_overhead": 10.0, "outside_app": 30.0}
    assert split["share_pct"] == {"inference": 50.0, "queue": 0.0, "app_overhead": 12.5, "outside_app": 37.5}


def test_queue_time_in_the_app_is_not_app_overhead():
    rows = [ok(0, 0, 100, "A", 1, 60, 20), ok(1, 1, 60, "A", 2, 40, 20)]
    rows[0].server_queue_ms, rows[1].server_queue_ms = 30.0, 10.0
    report = build_report(rows)
    # means: latency 80, inference 20, queue 20, app 50 − 20 − 20 = 10, outside 30
    assert report["split"]["mean_ms"] == {
        "inference": 20.0,
        "queue": 20.0,
        "app_overhead": 10.0,
        "outside_app": 30.0,
    }
    assert report["server_queue_ms"]["max"] == 30.0
    assert "waiting for a model slot in the app 20.0 ms (25.0 %)" in render_markdown(report)


def test_first_request_to_an_instance_that_was_already_ready_is_not_a_cold_start():
    # A local server started before the run: its first request (count 1) found it ready for
    # 2 s and spent 5 ms outside the app; instance B became ready while its request waited.
    warm_first = ok(0, 0.0, 20, "A", 1, 15, 12)
    warm_first.instance_ready_age_ms = 2000.0
    rows = [warm_first, *(ok(i, i * 0.1, 20, "A", i + 1, 15, 12) for i in range(1, 5))]
    waited = ok(10, 1.0, 1500, "B", 1, 15, 12)
    waited.instance_ready_age_ms = 3.0  # ready 3 ms before it arrived, after 1485 ms on its way
    report = build_report([*rows, waited])
    cold = report["cold_starts"]
    assert [e["seq"] for e in cold["events"]] == [10]
    assert cold["first_requests_on_ready_instances"] == 1
    by_id = {row["instance_id"]: row for row in report["instances"]["per_instance"]}
    assert by_id["A"]["started_during_run"] is False
    assert by_id["B"]["started_during_run"] is True
    assert report["instances"]["started_during_run"] == 1
    text = render_markdown(report)
    assert "1 started during the run" in text
    assert "(1 first request(s) found their instance already ready)" in text


def test_an_instance_that_became_ready_during_the_run_without_anyone_waiting_started_in_it():
    # Scale-out: B became ready 8 s into the run, its first request came 3 s later (no wait).
    late = ok(5, 11.0, 20, "B", 1, 15, 12)
    late.instance_ready_age_ms = 3000.0
    report = build_report([late])
    assert report["cold_starts"]["count"] == 0
    assert report["instances"]["per_instance"][0]["started_during_run"] is True


def test_an_instance_ready_just_before_the_run_did_not_start_in_it():
    # Ready 50 ms before t = 0; its first request, sent at 0.35 s, spent 200 ms outside the app
    # (a slow client), so the arrival time alone cannot place the start after t = 0.
    first = ok(1, 0.35, 215, "B", 1, 15, 12)
    first.instance_ready_age_ms = 400.0
    report = build_report([first])
    assert report["cold_starts"]["count"] == 0
    assert report["instances"]["started_during_run"] == 0


def test_report_is_labelled_with_what_was_measured():
    target = {"runtime": "onnx", "precision": "int8", "model": "m@abc", "cpu": "AMD EPYC (2 CPUs; AVX-512)"}
    text = render_markdown(build_report([ok(0, 0, 20)], {"target": target}))
    assert "Measured: runtime onnx, precision int8, model m@abc; CPU AMD EPYC (2 CPUs; AVX-512)" in text
    assert "runtime unknown, precision unknown" in render_markdown(build_report([ok(0, 0, 20)]))


def test_without_instance_headers_nothing_is_called_a_cold_start():
    rows = [ok(i, i, 20 + (900 if i == 0 else 0)) for i in range(5)]
    report = build_report(rows)
    assert report["cold_starts"]["count"] == 0
    assert report["instances"]["seen"] == 0
    assert report["instances"]["without_instance_header"] == 5
    assert report["split"]["count"] == 0
    assert "no X-Instance-Id header" in render_markdown({**report, "run": {"url": "u", "rps": 1}})


def test_markdown_and_json(tmp_path):
    report = build_report(scenario(), {"url": "http://x/predict", "rps": 4.0, "duration_s": 6})
    text = render_markdown(report)
    assert "## Load test: http://x/predict" in text
    assert "open loop, 4 req/s" in text
    assert "`429` × 1" in text
    assert "| client latency | 19 |" in text
    assert "3 instance(s) answered; 2 started during the run" in text
    path = write_report(tmp_path, report)
    assert json.loads(path.read_text())["cold_starts"]["count"] == 2
