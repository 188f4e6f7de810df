"""Process-wide state of one service instance: identity, model lifecycle, request count.

Phases: loading -> ready -> draining (SIGTERM), or loading -> failed. `/ready` is 200 only
in `ready`: the model is loaded *and* one warm-up inference ran, so the first real request
does not pay for lazy initialisation.
"""

from __future__ import annotations

import itertools
import logging
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future

from service.model import QAModel
from service.runner import InferenceRunner

log = logging.getLogger(__name__)

LOADING, READY, DRAINING, FAILED = "loading", "ready", "draining", "failed"


class ServiceState:
    def __init__(self, model_id: str, model_revision: str) -> None:
        self.instance_id = secrets.token_hex(8)
        self.model_id = model_id
        self.model_revision = model_revision
        self.model: QAModel | None = None
        self.phase = LOADING
        self.load_error: str | None = None
        self.created = time.monotonic()
        self._count = itertools.count(1)
        self._served = 0
        self._lock = threading.Lock()
        self._on_failure: Callable[[], None] | None = None
        self.loaded = threading.Event()  # set when loading ended, either way

    # --- requests ---------------------------------------------------------------------
    def next_request_number(self) -> int:
        """1 for the first (non-probe) request this process serves, then 2, 3, ..."""
        with self._lock:
            self._served = next(self._count)
            return self._served

    @property
    def served(self) -> int:
        return self._served

    # --- model lifecycle ----------------------------------------------------------------
    @property
    def ready(self) -> bool:
        return self.phase == READY

    def set_model(self, model: QAModel) -> None:
        """Warm up and publish a model (synchronously)."""
        t0 = time.perf_counter()
        model.warm_up()
        warm_ms = (time.perf_counter() - t0) * 1000
        with self._lock:
            self.model = model
            if self.phase == LOADING:
                self.phase = READY
        self.loaded.set()
        log.info(
            "model ready",
            extra={
                "model_id": self.model_id,
                "model_revision": self.model_revision,
                "warmup_ms": round(warm_ms, 1),
                "since_start_ms": round((time.monotonic() - self.created) * 1000, 1),
            },
        )

    def start_loading(self, loader: Callable[[], QAModel], runner: InferenceRunner) -> Future:
        """Load + warm up on an inference thread (see service/runner.py), so /health answers
        meanwhile and the model's first thread team is the one requests will use."""

        def run() -> None:
            try:
                t0 = time.perf_counter()
                model = loader()
                log.info("model loaded", extra={"load_ms": round((time.perf_counter() - t0) * 1e3)})
                self.set_model(model)
            except Exception as exc:  # any load error must end up in the log
                self.fail(exc)

        return runner.submit(run)

    def fail(self, exc: BaseException) -> None:
        with self._lock:
            self.phase = FAILED
            self.load_error = f"{type(exc).__name__}: {exc}"
            callback = self._on_failure
        self.loaded.set()
        log.critical("model failed to load", exc_info=exc)
        if callback is not None:
            callback()

    def on_failure(self, callback: Callable[[], None]) -> None:
        """Run `callback` when loading fails (at once if it already has)."""
        with self._lock:
            self._on_failure = callback
            failed = self.phase == FAILED
        if failed:
            callback()

    def begin_drain(self) -> None:
        """SIGTERM: report not-ready; requests already accepted still complete."""
        with self._lock:
            previous, self.phase = self.phase, DRAINING
        log.info(
            "draining: not ready any more, finishing in-flight requests", extra={"previous_phase": previous}
        )
