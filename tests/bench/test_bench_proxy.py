"""Two separate endpoints taking turns behind the round-robin proxy: cold starts per instance."""

import threading

import requests

from bench import records as rec
from bench.load import LoadConfig, run_load
from bench.proxy import RoundRobinProxy
from bench.report import build_report


def test_two_instances_taking_turns_give_two_cold_starts(stub_server):
    first = stub_server(instance_prefix="left-")
    second = stub_server(instance_prefix="right-")
    with RoundRobinProxy() as proxy:
        proxy.add(first.url)
        starting = proxy.add(second.url, ready=False)  # a new instance still starting up
        threading.Timer(0.5, starting.ready.set).start()
        result = run_load(
            LoadConfig(url=proxy.url, duration_s=30, concurrency=1, max_requests=6),
            progress=False,
        )
    assert [r.instance_id for r in result.records] == ["left-0", "right-0"] * 3
    assert [r.instance_request_count for r in result.records] == [1, 1, 2, 2, 3, 3]
    assert all(r.outcome == rec.OK for r in result.records)
    report = build_report(result.records)
    cold = report["cold_starts"]
    assert [e["instance_id"] for e in cold["events"]] == ["left-0", "right-0"]
    # The request dealt to the starting instance waited for it: ≥ 0.5 s − the first request.
    assert cold["events"][1]["latency_ms"] >= 400
    assert cold["events"][1]["overhead_ms"] >= 400  # waiting happened outside the app
    assert 1 in [e["seq"] for e in cold["startup_delayed"]["events"]]
    assert report["instances"]["seen"] == 2 and report["instances"]["started_during_run"] == 2


def test_proxy_passes_status_headers_and_errors(stub_server):
    stub = stub_server()
    with RoundRobinProxy(ready_timeout_s=0.2) as proxy:
        assert requests.post(proxy.url + "/predict", json={}, timeout=5).status_code == 503
        proxy.add(stub.url)
        answer = requests.post(proxy.url + "/predict", json={"status": 429}, timeout=5)
        assert answer.status_code == 429
        assert answer.json() == {"error": "stub status 429"}
        assert answer.headers["X-Instance-Id"] == "stub0"
        assert "total;dur=" in answer.headers["Server-Timing"]
        never = proxy.add("http://127.0.0.1:9", ready=False)
        late = requests.post(proxy.url + "/predict", json={}, timeout=5)  # dealt to `never`
        assert late.status_code == 503 and "did not become ready" in late.json()["error"]
        never.ready.set()
        requests.post(proxy.url + "/predict", json={}, timeout=5)  # stub again
        refused = requests.post(proxy.url + "/predict", json={}, timeout=5)  # `never`: port 9
        assert refused.status_code == 502
