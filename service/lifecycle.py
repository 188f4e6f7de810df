"""How a worker starts, loads, warms and drains: the one place that says it, in order.

1. gunicorn master, before fork (`start_master`, from gunicorn.conf.py): the settings are read
   and MODEL_DIR is checked against its manifest, hashed unless VERIFY_CHECKSUMS=0 (a bad value:
   one line on stderr, exit 2) while a thread imports what loading needs (`preimport`: NumPy,
   tokenizers, the QA model; for ONNX Runtime and OpenVINO the runtime, which starts no threads
   before a model exists; for torch Flask, as torch's model must load on its inference thread).
   hashlib releases the GIL, so the two overlap.
2. worker, right after fork (`prefetch`, the runtimes in PREFETCHED): the model - tokenizer + session, mostly
   C++ without the GIL - starts loading on a thread while the worker imports and builds the app.
3. `create_app` -> `ServiceState.start_loading(model_loader(settings), runner)`: the prefetched
   model is taken, or the model loads on an inference thread (service/inference.py), then one
   warm-up inference runs there, and only then is the phase `ready` (`/ready` 200).
4. `attach_worker` (gunicorn's post_worker_init): a failed load exits the worker with gunicorn's
   boot-error code (the master halts instead of respawning forever); SIGTERM -> `draining`
   (`/ready` 503, accepted requests still finish) -> gunicorn's graceful stop.
5. `exit_worker_now` (gunicorn's worker_exit): skip interpreter teardown once responses are sent.

Phases: loading -> ready -> draining, or loading -> failed.
Start-up milestones (service/startup.py) are marked along the way: exec, verify and imports in the
master, imports, load and warmup in the worker; /ready and the "model ready" line report them.
"""

from __future__ import annotations

import itertools
import logging
import os
import secrets
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from service import startup
from service.cpu_platform import this_cpu
from service.settings import Settings, SettingsError

if TYPE_CHECKING:
    from service.inference import InferenceRunner
    from service.qa.model import QAModel

log = logging.getLogger(__name__)
T = TypeVar("T")

LOADING, READY, DRAINING, FAILED = "loading", "ready", "draining", "failed"
# SIGTERM -> every request answered within this long: Cloud Run sends SIGKILL 10 s after
# SIGTERM, and writing the last responses and exiting takes the rest (gunicorn.conf.py).
DRAIN_BUDGET_S = 7
# What `preimport` loads, by runtime (None: before the runtime is known).
_PREIMPORTS: dict[str | None, tuple[str, ...]] = {
    None: ("service.qa.model",),
    "onnx": ("service.qa.backends.onnx",),
    "openvino": ("service.qa.backends.openvino_backend",),  # no threads until a model is compiled
    "torch": ("flask",),
}


# --- 1. master ------------------------------------------------------------------------------
def preimport(runtime: str | None = None) -> threading.Thread:
    """Import what loading the model needs on a thread; join it before forking."""

    def run() -> None:
        for name in _PREIMPORTS.get(runtime, ()):
            __import__(name)

    thread = threading.Thread(target=run, name="preimport", daemon=True)
    thread.start()
    return thread


def read_settings() -> Settings | None:
    """Settings from the environment, or None once the one line saying why is on stderr."""
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None
    startup.CLOCK.mark(startup.VERIFY)  # the manifest (and, where asked, every checksum) checked
    return settings


def start_master() -> Settings:
    """Read and check the settings while the imports for loading run; both done on return.
    A bad setting exits with status 2."""
    startup.CLOCK.mark(startup.EXEC)  # the interpreter and gunicorn are up
    imports = preimport()
    settings = read_settings()
    if settings is None:
        raise SystemExit(2)
    imports.join()
    preimport(settings.runtime).join()
    startup.CLOCK.mark(startup.IMPORTS)
    return settings


# --- 2./3. loading --------------------------------------------------------------------------
def load_model(settings: Settings) -> QAModel:
    """Load `settings.model_dir` with the backend its manifest names: the one set of load options."""
    from service.qa.model import QAModel  # noqa: PLC0415 - NumPy, tokenizers: after settings

    if settings.model_dir is None:
        raise SettingsError("MODEL_DIR is not set: expected the directory of the model to serve")
    t0 = time.perf_counter()
    model = QAModel.load(
        settings.model_dir,
        num_threads=settings.num_threads,
        max_question_tokens=settings.max_question_tokens,
        max_batch_windows=settings.max_batch_windows,
        max_windows=settings.max_windows,
        device=settings.device,
        allow_spinning=settings.intra_op_spinning,
        cache_dir=settings.openvino_cache_dir,
    )
    startup.record_work("model_load", time.perf_counter() - t0)  # tokenizer + read + compile
    choice = getattr(getattr(model, "backend", None), "choice", None)  # openvino `auto`, in model_load
    if choice is not None and choice.decide_ms:
        startup.record_work("precision_decision", choice.decide_ms / 1000)
    return model


# Runtimes whose session/compile runs in C++ without the GIL, so it overlaps Flask's import.
PREFETCHED = ("onnx", "openvino")
_prefetch_lock = threading.Lock()
_prefetched: dict[str, Future] = {}


def prefetch(settings: Settings) -> bool:
    """ONNX/OpenVINO: begin loading `settings.model_dir` on a thread now; True if started."""
    if settings.runtime not in PREFETCHED or settings.model_dir is None:
        return False
    future: Future = Future()

    def run() -> None:
        try:
            future.set_result(load_model(settings))
        except BaseException as exc:  # handed to whoever takes the model
            future.set_exception(exc)

    with _prefetch_lock:
        _prefetched[str(settings.model_dir)] = future
    threading.Thread(target=run, name="model-prefetch", daemon=True).start()
    return True


def take_prefetched(settings: Settings) -> Callable[[], QAModel] | None:
    """A loader that waits for the model `prefetch` began for `settings.model_dir`, or None."""
    with _prefetch_lock:
        future = _prefetched.pop(str(settings.model_dir), None)
    return future.result if future is not None else None


def model_loader(settings: Settings) -> Callable[[], QAModel]:
    """What `create_app` loads with: the prefetched model if there is one, else `load_model`."""
    if settings.model_dir is None:
        raise SettingsError("MODEL_DIR is not set: expected the directory of the model to serve")
    return take_prefetched(settings) or partial(load_model, settings)


class ServiceState:
    """Process-wide state of one instance: identity, model phase, request count."""

    def __init__(self, model_id: str, model_revision: str) -> None:
        self.instance_id = secrets.token_hex(8)
        self.model_id = model_id
        self.model_revision = model_revision
        self.model: QAModel | None = None
        self.phase = LOADING
        self.load_error: str | None = None
        self.created = time.monotonic()
        self.ready_at: float | None = None  # monotonic time the model became ready
        self._count = itertools.count(1)
        self._served = 0
        self._lock = threading.Lock()
        self._on_failure: Callable[[], None] | None = None
        self._on_drain: list[Callable[[], None]] = []
        self.drain_deadline: float | None = None  # monotonic; set at SIGTERM
        self.loaded = threading.Event()  # set when loading ended, either way
        # The master's start-up milestones, continued by this worker (service/startup.py).
        self.startup = startup.CLOCK.copy()

    def next_request_number(self) -> int:
        """1 for the first (non-probe) request this process serves, then 2, 3, ..."""
        with self._lock:
            self._served = next(self._count)
            return self._served

    @property
    def served(self) -> int:
        return self._served

    @property
    def ready(self) -> bool:
        return self.phase == READY

    def ready_age_ms(self) -> float | None:
        """How long this instance has been ready, or None before it first was.

        A client compares it with the time its request spent outside the app: a request that
        arrived sooner after the instance became ready than it had been on its way waited for
        the start-up (a cold start); one that found the instance long ready did not.
        """
        return None if self.ready_at is None else (time.monotonic() - self.ready_at) * 1000

    def set_model(self, model: QAModel) -> None:
        """Warm up and publish a model (synchronously): the first request pays no lazy set-up."""
        t0 = time.perf_counter()
        model.warm_up()
        warm_ms = (time.perf_counter() - t0) * 1000
        self.startup.mark(startup.WARMUP)
        with self._lock:
            self.model = model
            if self.phase == LOADING:
                self.phase = READY
                self.ready_at = time.monotonic()
        self.loaded.set()
        # The one start-up line: where this instance's start went, phase by phase.
        log.info(
            "model ready",
            extra={
                "model_id": self.model_id,
                "model_revision": self.model_revision,
                "warmup_ms": round(warm_ms, 1),
                "since_start_ms": round((time.monotonic() - self.created) * 1000, 1),
                **self.startup_fields(),
                # what runs, on what: e.g. openvino's precision and how `auto` chose it
                **getattr(getattr(model, "backend", None), "describe", dict)(),
                "cpu": this_cpu().summary(),
            },
        )

    def startup_fields(self) -> dict[str, object]:
        """The start-up phases as /ready and the start-up log line show them (seconds)."""
        phases = self.startup.phases()
        started = self.startup.wall_started()
        return {
            "startup_s": round(sum(phases.values()), 4),
            "startup_phases_s": {name: round(seconds, 4) for name, seconds in phases.items()},
            "startup_work_s": {name: round(seconds, 4) for name, seconds in startup.work().items()},
            "process_started_unix": None if started is None else round(started, 3),
        }

    def start_loading(self, loader: Callable[[], QAModel], runner: InferenceRunner) -> Future:
        """Load + warm up on an inference thread, so /health answers meanwhile and the model's
        first thread team is the one requests will use."""

        def run() -> None:
            try:
                t0 = time.perf_counter()
                model = loader()
                self.startup.mark(startup.LOAD)
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

    def on_drain(self, callback: Callable[[], None]) -> None:
        """Run `callback` at SIGTERM (the batcher stops waiting for company then)."""
        with self._lock:
            self._on_drain.append(callback)
            draining = self.phase == DRAINING
        if draining:
            callback()

    def begin_drain(self) -> None:
        """SIGTERM: report not-ready; requests already accepted finish or get a 503 by the
        deadline (DRAIN_BUDGET_S from now)."""
        with self._lock:
            if self.drain_deadline is None:
                self.drain_deadline = time.monotonic() + DRAIN_BUDGET_S
            previous, self.phase = self.phase, DRAINING
            callbacks = list(self._on_drain)
        for callback in callbacks:
            callback()
        log.info(
            "draining: not ready any more, finishing in-flight requests", extra={"previous_phase": previous}
        )


def await_before_drain_deadline(future: Future[T], state: ServiceState, poll_s: float = 0.25) -> T:
    """`future.result()`, but from SIGTERM on only until the drain deadline: past it the
    request is answered 503 + Retry-After (the forward pass is abandoned) rather than cut off
    when the process exits. Returns as soon as the result is there; the poll only bounds how
    late a SIGTERM is noticed."""
    from service.errors import DrainingError  # noqa: PLC0415 - errors imports the QA model

    while True:
        deadline = state.drain_deadline
        timeout = poll_s if deadline is None else min(poll_s, deadline - time.monotonic())
        if timeout <= 0:
            future.cancel()
            raise DrainingError(
                "the server is shutting down and this request did not finish in time; retry "
                "after the Retry-After delay"
            )
        try:
            return future.result(timeout=timeout)
        except TimeoutError:
            continue


# --- 4./5. the gunicorn worker --------------------------------------------------------------
def attach_worker(state: ServiceState, boot_error_code: int) -> None:
    """Failed load -> exit with `boot_error_code`; SIGTERM -> draining, then gunicorn's handler.

    A model that cannot load will not load on retry either: gunicorn's "worker failed to boot"
    code makes the master halt (non-zero) instead of respawning the worker forever, and the
    platform reports the crash.
    """
    state.on_failure(lambda: os._exit(boot_error_code))
    gunicorn_handler = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum: int, frame: Any) -> None:
        state.begin_drain()
        if callable(gunicorn_handler):
            gunicorn_handler(signum, frame)

    signal.signal(signal.SIGTERM, on_sigterm)


def exit_worker_now(worker_pid: int) -> None:
    """In the worker, once gunicorn has finished with it: exit now, skip interpreter teardown.

    Tearing down torch, its thread pools and the executor threads takes seconds on a busy CPU,
    and every second after SIGTERM counts against Cloud Run's 10 s. All responses are sent by
    now; only the logs need flushing. (gunicorn also calls its worker_exit hook in the master
    for a worker that is already gone: the pid check leaves that case alone.)
    """
    if os.getpid() != worker_pid:
        return
    exc = sys.exc_info()[1]
    if not isinstance(exc, SystemExit):
        return
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(exc.code if isinstance(exc.code, int) else 1)
