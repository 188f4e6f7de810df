"""Start-up overlap: the gunicorn master imports the app while it checksums the model.

`preimport()` imports the app's modules (Flask, NumPy, tokenizers, service.model; for ONNX
also onnxruntime, which starts no threads until a session exists) on a thread while the
master verifies MODEL_DIR's checksums (hashlib releases the GIL), so the forked worker starts
with them loaded and only has to build the app and the session. The thread must be joined
before gunicorn forks (service/gunicorn.conf.py does).

Measured and dropped: also creating the ONNX Runtime session on a thread right after fork,
in parallel with the worker building the app. On 2 vCPUs it was slower (start -> first
answer median 0.98 s vs 0.92 s over 6 starts each): the two compete for the GIL and the
vCPUs instead of overlapping.
"""

from __future__ import annotations

import threading


def preimport(runtime: str | None = None) -> threading.Thread:
    """Import what the worker will need, on a thread; join it before forking."""

    def run() -> None:
        import service.app  # noqa: PLC0415 - Flask, NumPy, tokenizers, service.model

        if runtime == "onnx":
            import service.backends.onnx_backend  # noqa: F401, PLC0415 - onnxruntime

    thread = threading.Thread(target=run, name="preimport", daemon=True)
    thread.start()
    return thread
