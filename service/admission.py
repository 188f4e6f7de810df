"""Admission control: at most `slots` requests run the model, at most `max_queue` wait.

Gunicorn's gthread worker hands accepted connections to a thread pool whose queue is
invisible to the app: more connections than threads simply wait, and a client sees a hang.
So the worker gets more threads than model slots (Settings.gunicorn_threads) and this gate
decides: run now, wait in a bounded queue for at most `timeout_s`, or refuse at once (503 +
Retry-After), which a load balancer or client can act on.

On SIGTERM (`begin_drain`) the queue is judged against the drain deadline: a waiting request
that would not finish by then, going by how long requests have held a slot lately, is refused
at once with 503 + Retry-After (the client retries on another instance) instead of being cut
off when the process exits; one still waiting at the deadline is refused then.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from service.errors import DrainingError, OverloadedError

# Weight of the newest hold time in the running estimate of how long a request holds a slot.
_EWMA_WEIGHT = 0.3


class Admission:
    def __init__(self, slots: int, max_queue: int, timeout_s: float) -> None:
        self.slots = slots
        self.max_queue = max_queue
        self.timeout_s = timeout_s
        self._cond = threading.Condition()
        self._running = 0
        self._queue: list[object] = []  # waiting requests, oldest first
        self._drain_deadline: float | None = None
        self.hold_s: float | None = None  # running estimate of one request's time in a slot

    @property
    def running(self) -> int:
        return self._running

    @property
    def waiting(self) -> int:
        return len(self._queue)

    def begin_drain(self, deadline: float) -> None:
        """From now on a waiting request must be able to finish by `deadline` (monotonic)."""
        with self._cond:
            self._drain_deadline = deadline
            self._cond.notify_all()

    def _would_miss_deadline(self, position: int, free: int, now: float) -> bool:
        if self._drain_deadline is None:
            return False
        if now >= self._drain_deadline:
            return True
        if self.hold_s is None:
            return False  # nothing to go by yet: the deadline itself still refuses it
        # A free slot: its own run. Else the requests running now, then the rounds ahead of
        # it, then its own.
        rounds = 1 if position < free else (position - free) // self.slots + 2
        return now + rounds * self.hold_s > self._drain_deadline

    @contextmanager
    def slot(self) -> Iterator[float]:
        """Hold a model slot for the block; yields the time spent waiting (ms)."""
        t0 = time.perf_counter()
        ticket = object()
        with self._cond:
            if self._running + len(self._queue) >= self.slots + self.max_queue:
                raise OverloadedError(
                    f"server is at capacity ({self.slots} running, {len(self._queue)} waiting); "
                    "retry after the Retry-After delay"
                )
            self._queue.append(ticket)
            give_up = time.monotonic() + self.timeout_s
            try:
                while True:
                    position = self._queue.index(ticket)
                    free = self.slots - self._running
                    now = time.monotonic()
                    if self._would_miss_deadline(position, free, now):
                        raise DrainingError(
                            "the server is shutting down and this request would not finish in "
                            "time; retry after the Retry-After delay"
                        )
                    if position < free:
                        break
                    if now >= give_up:
                        raise OverloadedError(
                            f"no model slot became free within {self.timeout_s:g} s; retry later"
                        )
                    wait = give_up - now
                    if self._drain_deadline is not None:
                        wait = min(wait, max(self._drain_deadline - now, 0.0))
                    self._cond.wait(wait)
                self._running += 1
            finally:
                self._queue.remove(ticket)
                self._cond.notify_all()  # the next in line may now fit
        started = time.monotonic()
        try:
            yield (time.perf_counter() - t0) * 1000
        finally:
            held = time.monotonic() - started
            with self._cond:
                self._running -= 1
                previous = self.hold_s
                self.hold_s = held if previous is None else previous + _EWMA_WEIGHT * (held - previous)
                self._cond.notify_all()
