"""Admission control: at most `slots` requests run the model, at most `max_queue` wait.

Gunicorn's gthread worker hands accepted connections to a thread pool whose queue is
invisible to the app: more connections than threads simply wait, and a client sees a hang.
So the worker gets more threads than model slots (Settings.gunicorn_threads) and this gate
decides: run now, wait in a bounded queue for at most `timeout_s`, or refuse at once (503 +
Retry-After), which a load balancer or client can act on.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from service.errors import OverloadedError


class Admission:
    def __init__(self, slots: int, max_queue: int, timeout_s: float) -> None:
        self.slots = slots
        self.max_queue = max_queue
        self.timeout_s = timeout_s
        self._free = threading.Semaphore(slots)
        self._lock = threading.Lock()
        self._running = 0
        self._waiting = 0

    @property
    def running(self) -> int:
        return self._running

    @property
    def waiting(self) -> int:
        return self._waiting

    @contextmanager
    def slot(self) -> Iterator[float]:
        """Hold a model slot for the block; yields the time spent waiting (ms)."""
        t0 = time.perf_counter()
        with self._lock:
            if self._running + self._waiting >= self.slots + self.max_queue:
                raise OverloadedError(
                    f"server is at capacity ({self.slots} running, {self._waiting} waiting); "
                    "retry after the Retry-After delay"
                )
            self._waiting += 1
        acquired = self._free.acquire(timeout=self.timeout_s)
        with self._lock:
            self._waiting -= 1
            if acquired:
                self._running += 1
        if not acquired:
            raise OverloadedError(f"no model slot became free within {self.timeout_s:g} s; retry later")
        try:
            yield (time.perf_counter() - t0) * 1000
        finally:
            with self._lock:
                self._running -= 1
            self._free.release()
