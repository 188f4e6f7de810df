"""Process start -> first answer: the service's start-up timer.

    from bench.coldstart import measure_start
    seconds = measure_start(Path("models/distilbert-base"), runs=5, env={"NUM_THREADS": "2"})

Each run starts a fresh `python -m service` (the same gunicorn stack as the image) on a free
port and times from just before `Popen` to the first `200` from `POST /predict`, polling
every 10 ms (connection refused and 503 "not ready" both mean "not yet"). The process is
then stopped with SIGTERM. Runs are sequential, so they do not compete for the CPUs.
`time_start` times one run and also returns the answer, the worker's peak RSS and where the
start went (the service's phases from GET /ready, bench.startup_phases).
"""

from __future__ import annotations

import http.client
import json
import time
from dataclasses import dataclass
from pathlib import Path

from bench import startup_phases
from bench.local_service import free_port, peak_rss_mb, spawn, stop_process
from service import routes

POLL_S = 0.01
SEED_EXAMPLE = {
    "context": "Roses are red, violets are blue, sugar is sweet, and so are you.",
    "question": "What am I?",
}


class StartTimeout(RuntimeError):  # noqa: N818 - reads as what happened, like TimeoutError
    pass


@dataclass(frozen=True)
class StartTiming:
    first_answer_s: float  # Popen -> first 200 from POST /predict
    peak_rss_mb: float | None  # worker's peak RSS (VmHWM) after the first answer, Linux only
    answer: dict
    phases: dict[str, float] | None = None  # bench.startup_phases.COLUMNS, adding up to first_answer_s


def _request(port: int, method: str, path: str, body: bytes | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _worker_peak_rss_mb(pid: int) -> float | None:
    try:
        peaks = peak_rss_mb(pid)
    except OSError:  # not Linux, or the process is gone
        return None
    return max(peaks.values())


def time_start(
    model_dir: Path,
    env: dict[str, str] | None = None,
    *,
    timeout_s: float = 180.0,
    payload: dict | None = None,
    log_path: Path | None = None,
) -> StartTiming:
    """One fresh process: start it, poll until the first answer, stop it."""
    port = free_port()
    body = json.dumps(payload or SEED_EXAMPLE).encode()
    launched_unix = time.time()
    t0 = time.perf_counter()
    process = spawn(Path(model_dir), port, env, log_path)
    try:
        deadline = t0 + timeout_s
        while time.perf_counter() < deadline:
            if process.poll() is not None:
                raise StartTimeout(f"service exited with status {process.returncode}")
            try:
                status, data = _request(port, "POST", routes.PREDICT, body)
            except OSError:
                status, data = 0, b""
            if status == 200:
                elapsed = time.perf_counter() - t0
                ready_status, ready = _request(port, "GET", routes.READY)
                phases = (
                    startup_phases.split(elapsed, launched_unix, json.loads(ready))
                    if ready_status == 200
                    else None
                )
                return StartTiming(elapsed, _worker_peak_rss_mb(process.pid), json.loads(data), phases)
            time.sleep(POLL_S)
        raise StartTimeout(f"no answer within {timeout_s:g} s")
    finally:
        stop_process(process)


def measure_start(model_dir: Path, runs: int, env: dict[str, str] | None = None) -> list[float]:
    """Seconds from process start to the first 200 from POST /predict, one per fresh run."""
    return [timing.first_answer_s for timing in measure_timings(model_dir, runs, env)]


def measure_timings(model_dir: Path, runs: int, env: dict[str, str] | None = None) -> list[StartTiming]:
    """One `StartTiming` (seconds, peak RSS, answer, phases) per fresh run."""
    return [time_start(Path(model_dir), env) for _ in range(runs)]
