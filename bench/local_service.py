"""Run `python -m service` as a child process on a free port: the one way bench starts it.

`spawn` / `stop_process` / `peak_rss_mb` are shared by the demo (`LocalService`), the start-up
timer (bench.coldstart) and the serving benchmarks (bench.studies.serving, bench.studies.runtimes).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from service import routes

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def service_env(model_dir: Path, port: int, env: dict[str, str] | None = None) -> dict[str, str]:
    return {
        **os.environ,
        "MODEL_DIR": str(model_dir),
        "PORT": str(port),
        "HF_HUB_OFFLINE": "1",
        **(env or {}),
    }


def spawn(model_dir: Path, port: int, env: dict[str, str] | None, log: Path | None) -> subprocess.Popen:
    """Start the gunicorn stack the image runs; its output goes to `log` (or nowhere)."""
    command = [sys.executable, "-m", "service"]
    child_env = service_env(model_dir, port, env)
    if log is None:
        return subprocess.Popen(
            command, cwd=ROOT, env=child_env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as handle:  # the child keeps its own handle
        return subprocess.Popen(command, cwd=ROOT, env=child_env, stdout=handle, stderr=subprocess.STDOUT)


def stop_process(process: subprocess.Popen, timeout_s: float = 15.0) -> None:
    """SIGTERM (graceful: requests in flight finish), then SIGKILL if it does not exit."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def peak_rss_mb(master_pid: int) -> dict[str, float]:
    """VmHWM of the gunicorn master and its largest worker, from /proc (Linux only)."""

    def hwm(pid: int) -> float:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    children = [int(p) for p in Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()]
    return {"master_mb": hwm(master_pid), "worker_mb": max((hwm(c) for c in children), default=0.0)}


class ServiceStartError(RuntimeError):
    pass


class LocalService:
    """One service process: `start()`, `wait_ready()`, `stop()` (or use it as a context)."""

    def __init__(self, model_dir: Path, log_path: Path, env: dict[str, str] | None = None):
        self.model_dir = Path(model_dir)
        self.log_path = Path(log_path)
        self.port = free_port()
        self.env = env
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LocalService:
        self.process = spawn(self.model_dir, self.port, self.env, self.log_path)
        self.started_at = time.perf_counter()
        return self

    def wait_ready(self, timeout_s: float = 180.0) -> float:
        """Seconds from start until GET /ready answered 200."""
        assert self.process is not None, "start() first"
        deadline = time.perf_counter() + timeout_s
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise ServiceStartError(f"service exited with {self.process.returncode}: {self.log_tail()}")
            try:
                if requests.get(self.url + routes.READY, timeout=2).status_code == 200:
                    return time.perf_counter() - self.started_at
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise ServiceStartError(f"service not ready after {timeout_s:g} s: {self.log_tail()}")

    def log_tail(self, lines: int = 5) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return " | ".join(text.strip().splitlines()[-lines:]) or "(empty log)"

    def stop(self, timeout_s: float = 10.0) -> None:
        if self.process is not None:
            stop_process(self.process, timeout_s)

    def __enter__(self) -> LocalService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
