"""The real server stack (`python -m service` = gunicorn + gthread) in a child process.

Covers what only a real process shows: JSON log lines on stdout without request bodies,
body limits through gunicorn's chunked decoding, overload answered with 503 instead of a
hang, SIGTERM with requests in flight (they finish with 200, /ready turns 503, exit within
9 s), and a model that cannot load stopping the server instead of crash-looping.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from service_helpers import SLOW_SITE, ServiceProcess

pytestmark = pytest.mark.slow  # real gunicorn servers

SEED = {
    "context": "Roses are red, violets are blue, sugar is sweet, and so are you.",
    "question": "What am I?",
}
SECRET = "zebra-marker-7f3a"  # must never reach the logs
FORWARD_DELAY_S = "1.0"


@pytest.fixture(scope="module")
def slow_server(served_model_dir, tmp_path_factory):
    """One slot, one queue place, each forward pass slowed by 1 s (tests/service/slow_site)."""
    log = tmp_path_factory.mktemp("server") / "service.log"
    server = ServiceProcess(
        served_model_dir,
        log,
        CONCURRENCY="1",
        MAX_QUEUE="1",
        MAX_BODY_BYTES="4096",
        MODEL_ID="test/tiny",
        MODEL_REVISION="r1",
        PYTHONPATH=str(SLOW_SITE),
        QA_TEST_FORWARD_DELAY_S=FORWARD_DELAY_S,
    )
    with server:
        server.wait_ready()
        yield server


def test_serves_the_seed_example(slow_server):
    response = requests.post(slow_server.url + "/predict", json=SEED, timeout=30)
    assert response.status_code == 200
    body = response.json()
    assert SEED["context"][body["start"] : body["end"]] == body["answer"]
    assert response.headers["X-Instance-Id"]
    ready = requests.get(slow_server.url + "/ready", timeout=10).json()
    assert (ready["model_id"], ready["model_revision"]) == ("test/tiny", "r1")


def test_chunked_and_nested_bodies_through_gunicorn(slow_server):
    big = json.dumps({**SEED, "context": "x " * 5000}).encode()
    response = requests.post(
        slow_server.url + "/predict",
        data=(big[i : i + 1000] for i in range(0, len(big), 1000)),  # generator: chunked
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 413
    assert "MAX_BODY_BYTES" in response.json()["error"]
    nested = b'{"question": "a", "context": ' + b"[" * 1500 + b"]" * 1500 + b"}"
    response = requests.post(
        slow_server.url + "/predict", data=nested, headers={"Content-Type": "application/json"}, timeout=30
    )
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["error"]


def test_overload_is_answered_at_once_not_queued_unseen(slow_server):
    body = {**SEED, "question": f"What is {SECRET}?"}
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [
            pool.submit(requests.post, slow_server.url + "/predict", json=body, timeout=60) for _ in range(4)
        ]
        statuses = sorted(f.result().status_code for f in futures)
    # One slot + one queue place: two answered, the other two refused with Retry-After.
    assert statuses == [200, 200, 503, 503]
    refused = next(f.result() for f in futures if f.result().status_code == 503)
    assert refused.headers["Retry-After"] == "1"


def test_logs_are_one_json_object_per_line_without_bodies(slow_server):
    requests.post(slow_server.url + "/predict", json={**SEED, "context": f"{SECRET} is here."}, timeout=30)
    requests.post(slow_server.url + "/predict", data=f"not json {SECRET}", timeout=30)
    time.sleep(0.2)  # let the log lines land
    text = slow_server.log()
    assert SECRET not in text
    records = slow_server.log_records()  # raises if any line is not JSON
    assert all({"severity", "message"} <= set(r) for r in records)
    requests_logged = [r for r in records if r.get("logger") == "service.requests"]
    assert any(r["httpRequest"]["status"] == 200 and r["windows"] == 1 for r in requests_logged)
    assert any(
        r["httpRequest"]["status"] == 415 and r["error_code"] == "unsupported_media_type"
        for r in requests_logged
    )
    assert any(r["message"] == "model ready" for r in records)


def test_sigterm_finishes_in_flight_requests_and_exits_in_time(served_model_dir, tmp_path):
    server = ServiceProcess(
        served_model_dir,
        tmp_path / "service.log",
        CONCURRENCY="1",
        MAX_QUEUE="2",
        PYTHONPATH=str(SLOW_SITE),
        QA_TEST_FORWARD_DELAY_S=FORWARD_DELAY_S,
    )
    with server:
        server.wait_ready()
        keepalive = requests.Session()
        assert keepalive.get(server.url + "/health", timeout=10).status_code == 200
        started = threading.Barrier(4)

        def ask():
            started.wait(10)
            return requests.post(server.url + "/predict", json=SEED, timeout=60)

        with ThreadPoolExecutor(max_workers=3) as pool:
            futures = [pool.submit(ask) for _ in range(3)]
            started.wait(10)
            time.sleep(0.5)  # the three are accepted: one in the model, two queued
            t0 = time.monotonic()
            server.terminate()
            time.sleep(0.3)
            # A kept-alive connection still reaches the app while it drains: not ready.
            drained = keepalive.get(server.url + "/ready", timeout=10)
            assert drained.status_code == 503
            assert "draining" in drained.json()["error"]
            assert [f.result().status_code for f in futures] == [200, 200, 200]
        assert server.wait_exit(15) == 0
        assert time.monotonic() - t0 < 9.0
        messages = [r["message"] for r in server.log_records()]
        assert any(m.startswith("draining") for m in messages)


def test_a_model_that_cannot_load_stops_the_server(tiny_model_dir, tmp_path):
    broken = tmp_path / "broken-model"
    shutil.copytree(tiny_model_dir, broken)
    weights = broken / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])  # truncated download
    server = ServiceProcess(broken, tmp_path / "service.log")
    with server:
        code = server.wait_exit(120)
    assert code != 0
    records = server.log_records()
    failure = next(r for r in records if r["message"] == "model failed to load")
    assert failure["severity"] == "CRITICAL"
    assert "stack_trace" in failure
