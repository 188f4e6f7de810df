"""What only a built image can show: its contents, labels, start-up, shutdown and failure modes.

Each runs per variant (openvino auto, onnx fp32, onnx int8, torch fp32), with the container run as Cloud Run /
Knative run it (bench.containers.platform_run_argv).
"""

from __future__ import annotations

import dataclasses
import json
import socket
import time

import pytest
import requests
from image_helpers import build_derived, start_container

from bench import containers
from service.bake.manifest import DEFAULT_MODEL_FILE

pytestmark = pytest.mark.slow

SEED = {"question": "What am I?", "context": "Roses are red, violets are blue, sugar is sweet."}
HEAVY = ("torch", "transformers")


def test_labels_carry_model_revision_runtime_and_precision(engine, image):
    labels = containers.image_labels(engine, image.reference)
    assert labels["ai.model.id"] == image.model_id
    assert labels["ai.model.revision"] == image.revision
    assert labels["ai.model.runtime"] == image.runtime
    assert labels["ai.model.precision"] == image.precision


def test_ready_reports_the_baked_runtime_precision_and_revision(target, image):
    body = requests.get(target.url + "/ready", timeout=10).json()
    assert (body["backend"], body["precision"]) == (image.runtime, image.precision)
    assert (body["model_id"], body["model_revision"]) == (image.model_id, image.revision)


def test_only_the_torch_image_has_torch_and_transformers(container, image):
    probe = "import importlib.util as u, json; print(json.dumps([bool(u.find_spec(m)) for m in %r]))"
    result = container.exec("python", "-c", probe % (HEAVY,))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [image.runtime == "torch"] * len(HEAVY)


def test_runs_as_the_app_user_with_only_tmp_writable(container):
    status = container.exec("cat", "/proc/1/status").stdout
    uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
    assert uid_line.split()[1:] == [str(containers.APP_UID)] * 4
    assert "CapEff:\t0000000000000000" in status
    assert "NoNewPrivs:\t1" in status
    for path in ("/app/x", "/model/x", "/x", "/var/tmp/x"):
        assert container.exec("touch", path).returncode != 0, f"{path} is writable"
    assert container.exec("touch", "/tmp/x").returncode == 0


def test_starts_and_answers_without_any_network(engine, image, memory_mib):
    """No network at all: anything fetched at start would fail the start."""
    offline = start_container(engine, image, memory_mib, network="none")
    try:
        port = offline.url.rsplit(":", 1)[1]
        ask = (
            "import json, time, urllib.request as r\n"
            "for _ in range(600):\n"
            "    try:\n"
            f"        q = r.Request('http://127.0.0.1:{port}/predict', data=json.dumps({SEED!r}).encode(),"
            " headers={'Content-Type': 'application/json'})\n"
            "        print(r.urlopen(q, timeout=5).status); break\n"
            "    except OSError: time.sleep(0.1)\n"
        )
        result = offline.exec("python", "-c", ask)
        assert result.stdout.strip() == "200", offline.logs()[-2000:]
    finally:
        offline.remove()


def _slow_upload(url: str, body: bytes) -> socket.socket:
    """Headers and half the body sent: the request is in flight until the rest arrives."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    head = (
        f"POST /predict HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    sock.sendall(head + body[: len(body) // 2])
    return sock


def test_sigterm_lets_the_request_in_flight_finish_then_exits_in_time(engine, image, memory_mib):
    running = start_container(engine, image, memory_mib)
    try:
        containers.wait_answer(running, SEED)
        body = json.dumps(SEED).encode()
        sock = _slow_upload(running.url, body)
        time.sleep(0.5)
        running.signal("TERM")
        signalled = time.perf_counter()
        time.sleep(1.0)  # shutting down, the request still open
        sock.sendall(body[len(body) // 2 :])
        response = b""
        while chunk := sock.recv(65536):
            response += chunk
        sock.close()
        assert response.startswith(b"HTTP/1.1 200"), response[:200]
        assert json.loads(response.split(b"\r\n\r\n", 1)[1])["answer"]
        left = containers.STOP_GRACE_S - (time.perf_counter() - signalled)
        assert running.wait_exit(left) is not None, "still running 9 s after SIGTERM"
        assert running.exit_code() == 0, running.logs()[-2000:]
    finally:
        running.remove()


def test_a_corrupted_model_file_stops_the_start_before_the_port_with_one_line(engine, image, memory_mib):
    """With VERIFY_CHECKSUMS=1: the image ships it off (its build verified /model, and the image
    digest pins it; docs/cold-starts.md), so a derived image that changes /model turns it on."""
    weights = f"/model/{DEFAULT_MODEL_FILE[image.runtime]}"
    flip = (
        f"import os; f = open({weights!r}, 'r+b'); f.seek(os.path.getsize({weights!r}) // 2); "
        "b = f.read(1); f.seek(-1, 1); f.write(bytes([b[0] ^ 0xFF])); f.close()"
    )
    derived = build_derived(
        image.reference,
        f"{image.reference.rsplit(':', 1)[0]}:corrupt-{image.runtime}-{image.precision}",
        f'USER 0\nRUN python -c "{flip}"\nENV VERIFY_CHECKSUMS=1\n'
        f"USER {containers.APP_UID}:{containers.APP_UID}",
    )
    broken = start_container(engine, dataclasses.replace(image, reference=derived), memory_mib)
    try:
        answered = False
        deadline = time.perf_counter() + 60
        while broken.running() and time.perf_counter() < deadline:
            try:
                requests.get(broken.url + "/health", timeout=1)
                answered = True
            except requests.RequestException:
                pass
            time.sleep(0.05)
        assert not broken.running(), "a corrupted model still runs after 60 s"
        assert broken.exit_code() != 0
        assert not answered, "the port answered although the model is corrupt"
        lines = [line for line in broken.logs().splitlines() if line.strip()]
        assert len(lines) == 1, lines
        assert DEFAULT_MODEL_FILE[image.runtime] in lines[0]
    finally:
        broken.remove()
