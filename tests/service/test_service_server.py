"""The real server stack (`python -m service` = gunicorn + gthread) in a child process.

Covers what only a real process shows: JSON log lines on stdout without request bodies,
body limits through gunicorn's chunked decoding, overload answered with 503 instead of a
hang, SIGTERM with requests in flight (they finish with 200, /ready turns 503, exit within
9 s), a model that cannot load stopping the server instead of crash-looping, a 413 that a
client sending its whole body first still reads, and the command line (--help, a port in use).
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from service_helpers import ROOT, SLOW_SITE, ServiceProcess, free_port

from service import metric_names

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


def _logged(server: ServiceProcess, status: int, error_code: str | None = None) -> bool:
    return any(
        r.get("logger") == "service.requests"
        and r["httpRequest"]["status"] == status
        and (error_code is None or r.get("error_code") == error_code)
        and (status != 200 or r["windows"] == 1)
        for r in server.log_records()  # raises if any line is not JSON
    )


def test_logs_are_one_json_object_per_line_without_bodies(slow_server, wait_until):
    requests.post(slow_server.url + "/predict", json={**SEED, "context": f"{SECRET} is here."}, timeout=30)
    requests.post(slow_server.url + "/predict", data=f"not json {SECRET}", timeout=30)
    # A line is written after its response is sent: wait for both lines, not for a time.
    wait_until(lambda: _logged(slow_server, 200), "the 200's log line")
    wait_until(lambda: _logged(slow_server, 415, "unsupported_media_type"), "the 415's log line")
    text = slow_server.log()
    assert SECRET not in text
    records = slow_server.log_records()
    assert all({"severity", "message"} <= set(r) for r in records)
    assert any(r["message"] == "model ready" for r in records)


def _gauges(session: requests.Session, url: str) -> dict[str, float]:
    """The service's own gauges, from its /metrics (the state a test waits for)."""
    text = session.get(url + "/metrics", timeout=10).text
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name in (metric_names.IN_FLIGHT, metric_names.QUEUE_DEPTH)
    }


def test_sigterm_finishes_in_flight_requests_and_exits_in_time(served_model_dir, tmp_path, wait_until):
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
            accepted = {metric_names.IN_FLIGHT: 1, metric_names.QUEUE_DEPTH: 2}
            wait_until(
                lambda: _gauges(keepalive, server.url) == accepted, "one request in the model, two queued"
            )
            t0 = time.monotonic()
            server.terminate()
            # A kept-alive connection still reaches the app while it drains: not ready.
            last: dict[str, requests.Response] = {}

            def not_ready() -> bool:
                last["ready"] = keepalive.get(server.url + "/ready", timeout=10)
                return last["ready"].status_code == 503

            wait_until(not_ready, "/ready turning 503 after SIGTERM")
            assert "draining" in last["ready"].json()["error"]
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


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_client_that_sends_the_whole_body_first_reads_the_413(slow_server, chunked):
    # Far over the 4 KiB cap and over what gunicorn drains by itself plus the socket buffers:
    # without the lingering drain http.client's send fails with a broken pipe.
    body = json.dumps({"context": "a " * 4_000_000, "question": "q"}).encode()
    conn = http.client.HTTPConnection("127.0.0.1", slow_server.port, timeout=60)
    try:
        if chunked:
            chunks = (body[i : i + 65536] for i in range(0, len(body), 65536))
            conn.request(
                "POST",
                "/predict",
                body=chunks,
                encode_chunked=True,
                headers={"Content-Type": "application/json"},
            )
        else:
            conn.request("POST", "/predict", body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        assert response.status == 413
        assert "4096 bytes" in json.loads(response.read())["error"]
    finally:
        conn.close()
    assert requests.post(slow_server.url + "/predict", json=SEED, timeout=30).status_code == 200


def _run_service(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "service", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_help_prints_usage_and_starts_nothing():
    result = _run_service({"MODEL_DIR": "", "PORT": str(free_port())}, "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("usage: python -m service")
    assert "MODEL_DIR" in result.stdout and "Starting gunicorn" not in result.stdout + result.stderr
    bad = _run_service({}, "--port", "9000")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "--help" in bad.stderr


def test_a_port_in_use_is_one_line_not_tracebacks(tiny_model_dir):
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        t0 = time.monotonic()
        result = _run_service({"MODEL_DIR": str(tiny_model_dir), "PORT": str(port)})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: port {port} is already in use (another server running?): stop it, or set PORT"
    ]
    assert "Traceback" not in result.stdout and time.monotonic() - t0 < 30  # gunicorn retries 5 s
