"""Start-up overlap: the two vCPUs and the GIL-free parts of loading work side by side.

Process start -> first answer on 2 vCPUs is mostly imports (Python, holding the GIL) plus the
ONNX Runtime session (C++, ~0.1-0.2 s, mostly without the GIL). So:

* `preimport()` (gunicorn master, before fork): imports what loading the model needs (NumPy,
  tokenizers, service.model; for ONNX onnxruntime, which starts no threads before a session
  exists; for torch the app, as torch's model must load on its inference thread) on a thread
  while the master checksums MODEL_DIR (hashlib releases the GIL). Joined before the fork.
* `start()` (worker, right after fork; ONNX only): builds the model - tokenizer + session -
  on a thread while the worker's main thread imports Flask and builds the app, so the session
  is created while Flask is imported. `take()` hands it to `create_app`'s loader; the warm-up
  still runs on the inference thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from service.model import QAModel
    from service.settings import Settings

# Runtimes whose session/compile runs in C++ without the GIL, so it overlaps Flask's import.
PREFETCHED = ("onnx", "openvino")
_lock = threading.Lock()
_pending: dict[str, Future] = {}


def preimport(runtime: str | None = None) -> threading.Thread:
    """Import what loading the model needs, on a thread; join it before forking."""

    def run() -> None:
        import service.model  # noqa: PLC0415 - NumPy, tokenizers

        if runtime == "onnx":
            import service.backends.onnx_backend  # noqa: PLC0415 - onnxruntime
        elif runtime == "openvino":
            import service.backends.openvino_backend  # noqa: PLC0415 - no threads until compiled
        elif runtime is not None:
            import service.app  # noqa: F401, PLC0415 - Flask

    thread = threading.Thread(target=run, name="preimport", daemon=True)
    thread.start()
    return thread


def start(settings: Settings) -> bool:
    """ONNX/OpenVINO: begin loading `settings.model_dir` on a thread; True if started."""
    if settings.runtime not in PREFETCHED or settings.model_dir is None:
        return False
    future: Future = Future()

    def run() -> None:
        from service.model import QAModel  # noqa: PLC0415

        try:
            future.set_result(
                QAModel.load(
                    settings.model_dir,
                    num_threads=settings.num_threads,
                    max_question_tokens=settings.max_question_tokens,
                    max_batch_windows=settings.max_batch_windows,
                    device=settings.device,
                    allow_spinning=settings.intra_op_spinning,
                    cache_dir=settings.openvino_cache_dir,
                )
            )
        except BaseException as exc:  # handed to whoever takes the model
            future.set_exception(exc)

    with _lock:
        _pending[str(settings.model_dir)] = future
    threading.Thread(target=run, name="model-prefetch", daemon=True).start()
    return True


def take(settings: Settings) -> Callable[[], QAModel] | None:
    """A loader that waits for the model `start` began for `settings.model_dir`, or None."""
    with _lock:
        future = _pending.pop(str(settings.model_dir), None)
    return future.result if future is not None else None
