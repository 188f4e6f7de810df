"""Dedicated threads for every model call: load, warm-up and each request's inference.

torch's OpenMP runtime keeps one thread team per calling thread. Left to gunicorn, requests
run on whichever of its threads is free, each brings its own team, the teams outnumber the
vCPUs, and OpenMP stops spin-waiting between operators, which makes every request slower
(service/README.md, "Speed and memory", has the numbers). So the model only ever runs on
CONCURRENCY fixed threads (one hot team per model slot), and request threads wait for them.
ONNX Runtime's intra-op pool belongs to the session instead, so ONNX requests run on their own
request thread (backend.thread_affine False) and only loading and the warm-up come here.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class InferenceRunner:
    def __init__(self, threads: int) -> None:
        self.threads = threads
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="inference")

    def submit(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        return self._pool.submit(fn, *args, **kwargs)

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `fn` on an inference thread and wait; its exception is re-raised here."""
        return self._pool.submit(fn, *args, **kwargs).result()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
