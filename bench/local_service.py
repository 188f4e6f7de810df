"""Run `python -m service` as a child process on a free port, for demos and tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServiceStartError(RuntimeError):
    pass


class LocalService:
    """One service process: `start()`, `wait_ready()`, `stop()` (or use it as a context)."""

    def __init__(self, model_dir: Path, log_path: Path, env: dict[str, str] | None = None):
        self.model_dir = Path(model_dir)
        self.log_path = Path(log_path)
        self.port = free_port()
        self.env = {**os.environ, "MODEL_DIR": str(self.model_dir), "PORT": str(self.port),
                    "HF_HUB_OFFLINE": "1", **(env or {})}  # fmt: skip
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LocalService:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:  # the child keeps its own handle
            self.process = subprocess.Popen([sys.executable, "-m", "service"], cwd=ROOT,
                                            env=self.env, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
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
                if requests.get(self.url + "/ready", timeout=2).status_code == 200:
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
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # graceful: finishes requests in flight
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)

    def __enter__(self) -> LocalService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
