"""Test doubles, a subprocess runner and dynamic-batching drivers for the service tests."""

from __future__ import annotations

import json
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import requests

from bench.local_service import free_port
from service.batching import Batcher
from service.qa.tokenization import Padding

ROOT = Path(__file__).resolve().parents[2]
SLOW_SITE = Path(__file__).with_name("slow_site")

# Batched, threaded and cross-runtime answers: the spans must be identical, the scores only
# close. A padded batch (or another kernel) sums the same logits in another order, so the
# last bits of a float32 softmax differ (seen: 0.0931722845 vs 0.0931722766, 8.5e-8 relative).
SCORE_RTOL = 1e-4
SCORE_ATOL = 1e-7


def assert_same_answers(got, want, path="response"):
    """`got == want` for /predict JSON (or lists of it), scores compared within SCORE_RTOL/ATOL."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and got.keys() == want.keys(), f"{path}: {got!r} != {want!r}"
        for key in want:
            assert_same_answers(got[key], want[key], f"{path}.{key}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), f"{path}: {got!r} != {want!r}"
        for i, (mine, theirs) in enumerate(zip(got, want, strict=True)):
            assert_same_answers(mine, theirs, f"{path}[{i}]")
    elif isinstance(want, float) and path.endswith(".score"):
        assert math.isclose(got, want, rel_tol=SCORE_RTOL, abs_tol=SCORE_ATOL), f"{path}: {got} vs {want}"
    else:
        assert got == want, f"{path}: {got!r} != {want!r}"


class KeywordBackend:
    """Logits that point at given token ids: start at `start_id`, end at `end_id`.

    Lets a test know the right answer without a trained model, so it checks the windowing
    and the mapping back to characters, not the weights.
    """

    name = "keyword"

    def __init__(self, start_id: int, end_id: int, input_names=("input_ids", "attention_mask")):
        self.start_id, self.end_id = start_id, end_id
        self.input_names = tuple(input_names)
        self.calls: list[dict[str, np.ndarray]] = []

    def __call__(self, inputs):
        self.calls.append(inputs)
        ids = inputs["input_ids"]
        start = np.where(ids == self.start_id, 10.0, 0.0).astype(np.float32)
        end = np.where(ids == self.end_id, 10.0, 0.0).astype(np.float32)
        return start, end


class GatedBackend:
    """Wraps a backend; each call waits until the test opens the gate."""

    def __init__(self, inner):
        self.inner = inner
        self.name = f"gated-{inner.name}"
        self.input_names = inner.input_names
        self.gate = threading.Event()
        self.entered = threading.Semaphore(0)

    def __call__(self, inputs):
        self.entered.release()
        assert self.gate.wait(30), "test never opened the gate"
        return self.inner(inputs)


class ServiceProcess:
    """`python -m service` in a child process (the real gunicorn stack)."""

    def __init__(self, model_dir: Path | None, log_path: Path, **env: str):
        self.port = free_port()
        self.log_path = log_path
        self.env = {**os.environ, "PORT": str(self.port), "LOG_LEVEL": "INFO", **env}
        if model_dir is not None:
            self.env["MODEL_DIR"] = str(model_dir)
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServiceProcess:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "service"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def wait_ready(self, timeout_s: float = 120.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"service exited {self.process.returncode}: {self.log()}")
            try:
                if requests.get(self.url + "/ready", timeout=2).status_code == 200:
                    return
            except (requests.ConnectionError, requests.Timeout):
                pass  # not listening yet, or too busy loading the model to answer within 2 s
            time.sleep(0.05)
        raise AssertionError(f"service not ready in {timeout_s} s: {self.log()}")

    def terminate(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)

    def wait_exit(self, timeout_s: float) -> int:
        assert self.process is not None
        return self.process.wait(timeout_s)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_records(self) -> list[dict]:
        return [json.loads(line) for line in self.log().splitlines() if line.strip()]

    def __enter__(self) -> ServiceProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- dynamic batching (service/batching.py) -----------------------------------------------
POISON = -1


class EchoForward:
    """start logits = input ids, end logits = attention mask; raises on a POISON id.

    Each request can then check it got its own rows back at its own width.
    """

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.calls: list[int] = []  # rows per call
        self.gate = gate
        self.entered = threading.Semaphore(0)

    def __call__(self, arrays):
        self.entered.release()
        if self.gate is not None:
            assert self.gate.wait(30), "test never opened the gate"
        self.calls.append(arrays["input_ids"].shape[0])
        if (arrays["input_ids"] == POISON).any():
            raise ValueError("poisoned window")
        return arrays["input_ids"].astype(np.float32), arrays["attention_mask"].astype(np.float32)


def request_arrays(rows: int, width: int, first_id: int) -> dict[str, np.ndarray]:
    ids = np.arange(first_id, first_id + rows * width, dtype=np.int64).reshape(rows, width)
    return {"input_ids": ids, "attention_mask": np.ones_like(ids)}


def make_batcher(forward, **kwargs) -> tuple[Batcher, ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inference")
    options = {"max_wait_s": 0.05, "max_windows": 8, "timeout_s": 30.0, "padding": Padding()} | kwargs
    return Batcher(forward, submit=pool.submit, **options), pool


def run_together(batcher: Batcher, requests: list[dict[str, np.ndarray]]) -> list:
    """Every request announced first, then submitted from its own thread: they batch."""
    tickets = [batcher.reserve() for _ in requests]
    entered = [t.__enter__() for t in tickets]
    results: list = [None] * len(requests)

    def go(i: int) -> None:
        try:
            results[i] = entered[i].run(requests[i])
        except Exception as exc:
            results[i] = exc
        finally:
            tickets[i].__exit__(None, None, None)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


# --- raw HTTP/1.1 over a socket (what requests/http.client will not send) -------------------
def raw_exchange(port: int, data: bytes, *, half_close: bool = False, timeout_s: float = 30.0):
    """Send `data`, read until the server closes; (status, headers, body). Status 0: no answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as sock:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except (ConnectionResetError, TimeoutError):
            pass
    return parse_response(received)


def parse_response(received: bytes):
    """(status, lower-cased headers, body) of the last response in `received` (after any 1xx)."""
    while received.startswith(b"HTTP/1.1 1"):
        received = received.split(b"\r\n\r\n", 1)[1]
    if not received:
        return 0, {}, b""
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, headers, body
