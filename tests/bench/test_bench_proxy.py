"""Separate endpoints behind the local front-end proxy: instances, cold starts, limits."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from bench import records as rec
from bench.load import LoadConfig, run_load
from bench.proxy import FrontEndProxy
from bench.report import build_report


@pytest.mark.slow
def test_a_request_waiting_for_a_new_instance_shows_as_its_cold_start(stub_server):
    busy = stub_server(instance_prefix="left-", default_delay_ms=1000)
    fresh = stub_server(instance_prefix="right-", default_delay_ms=50)
    with FrontEndProxy(backend_concurrency=1) as proxy:
        proxy.add(busy.url)
        starting = proxy.add(fresh.url, ready=False)  # a new instance, still starting
        threading.Timer(0.5, proxy.mark_ready, args=(starting,)).start()
        result = run_load(
            LoadConfig(url=proxy.url, duration_s=30, concurrency=2, max_requests=4), progress=False
        )
    # One request takes `left` for 1 s; the other user's finds it full and waits for `right`
    # to be ready (0.5 s); the next two find `right` free first.
    ids = [r.instance_id for r in result.records]
    assert Counter(ids) == {"left-0": 1, "right-0": 3}
    assert all(r.outcome == rec.OK for r in result.records)
    report = build_report(result.records)
    cold = {e["instance_id"]: e for e in report["cold_starts"]["events"]}
    assert set(cold) == {"left-0", "right-0"}
    assert cold["right-0"]["latency_ms"] >= 400
    assert cold["right-0"]["overhead_ms"] >= 400  # the wait was outside the app
    assert report["instances"]["seen"] == 2 and report["instances"]["started_during_run"] == 2


def test_idle_backends_take_turns(stub_server):
    a, b = stub_server(instance_prefix="a-"), stub_server(instance_prefix="b-")
    with FrontEndProxy() as proxy:
        proxy.add(a.url)
        proxy.add(b.url)
        result = run_load(
            LoadConfig(url=proxy.url, duration_s=30, concurrency=1, max_requests=6), progress=False
        )
    assert [r.instance_id for r in result.records] == ["a-0", "b-0"] * 3
    assert [r.instance_request_count for r in result.records] == [1, 1, 2, 2, 3, 3]


@pytest.mark.slow
def test_backend_concurrency_is_never_exceeded(stub_server):
    stub = stub_server(default_delay_ms=200)
    with FrontEndProxy(backend_concurrency=1) as proxy, ThreadPoolExecutor(3) as pool:
        proxy.add(stub.url)
        answers = list(
            pool.map(lambda _: requests.post(proxy.url + "/predict", json={}, timeout=10), range(3))
        )
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert stub.max_in_flight == 1


@pytest.mark.slow
def test_proxy_passes_status_headers_and_errors(stub_server, unused_port):
    stub = stub_server()
    with FrontEndProxy(ready_timeout_s=0.2) as proxy:
        empty = requests.post(proxy.url + "/predict", json={}, timeout=5)
        assert empty.status_code == 503 and "no backend free" in empty.json()["error"]
        proxy.add(stub.url)
        answer = requests.post(proxy.url + "/predict", json={"status": 429}, timeout=5)
        assert answer.status_code == 429
        assert answer.json() == {"error": "stub status 429"}
        assert answer.headers["X-Instance-Id"] == "stub0"
        assert "total;dur=" in answer.headers["Server-Timing"]
    with FrontEndProxy() as proxy:
        proxy.add(f"http://127.0.0.1:{unused_port}")
        refused = requests.post(proxy.url + "/predict", json={}, timeout=5)
        assert refused.status_code == 502 and "ConnectionError" in refused.json()["error"]


@pytest.mark.slow
def test_waiting_requests_are_served_first_come_first_served(stub_server, wait_until):
    stub = stub_server(default_delay_ms=300)
    with FrontEndProxy(backend_concurrency=1) as proxy:
        proxy.add(stub.url)
        threads = []
        for tag in range(4):
            thread = threading.Thread(
                target=requests.post,
                args=(proxy.url + "/predict",),
                kwargs={"json": {"tag": tag}, "timeout": 10},
            )
            thread.start()
            threads.append(thread)
            # Each in line before the next is sent: the order they arrive in is the order asked.
            wait_until(lambda n=tag + 1: proxy.arrived == n, f"request {tag} in the proxy's line")
        for thread in threads:
            thread.join()
    assert [r["tag"] for r in stub.received] == [0, 1, 2, 3]
