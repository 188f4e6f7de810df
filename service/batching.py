"""Dynamic batching: the windows of requests that arrive close together run as one forward pass.

A request tokenizes on its own thread, then hands its padded windows to the `Batcher` and
waits. One dispatch loop at a time (on the inference runner, so torch keeps its one hot thread
team) takes queued requests oldest first, as long as their windows fit `max_windows`, pads
them all to the batch's longest window, runs one forward pass and gives each request its own
rows back, cut to its own width. Decoding then happens on the request's thread again.

When the loop waits: only while another admitted request is still tokenizing (it will join
soon) and the oldest queued request has waited less than `max_wait_s`. With nobody on the way
it runs at once, so a lone request pays no batching delay; under load, requests that arrive
while a batch runs form the next one by themselves.

Isolation: a batch whose forward pass raises is rerun request by request, so only the request
that breaks the model fails; a request that waits longer than `timeout_s` for its batch to
start leaves the queue (503) without touching the others; `close()` stops taking requests and
finishes everything already queued.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from service.errors import NotReadyError, OverloadedError
from service.qa.tokenization import Padding, split_rows, stack_windows

log = logging.getLogger(__name__)

Forward = Callable[[dict[str, np.ndarray]], tuple[np.ndarray, np.ndarray]]
Submit = Callable[[Callable[[], None]], object]

_QUEUED, _RUNNING, _DONE = "queued", "running", "done"


@dataclass(frozen=True)
class BatchInfo:
    """What one request's batch looked like (the Server-Timing header reports it)."""

    wait_ms: float  # queued -> its batch's forward pass started
    size: int  # requests in the batch
    windows: int  # rows of the batch
    forward_ms: float


@dataclass(eq=False)
class _Item:
    arrays: dict[str, np.ndarray]
    arrived: float
    state: str = _QUEUED
    started: float = 0.0
    result: tuple[np.ndarray, np.ndarray] | None = None
    error: BaseException | None = None
    info: BatchInfo | None = None
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def windows(self) -> int:
        return int(self.arrays["input_ids"].shape[0])

    @property
    def width(self) -> int:
        return int(self.arrays["input_ids"].shape[1])


class Batcher:
    def __init__(
        self,
        forward: Forward,
        *,
        submit: Submit,
        max_wait_s: float,
        max_windows: int,
        timeout_s: float,
        padding: Padding | None = None,
    ) -> None:
        if max_windows < 1:
            raise ValueError("max_windows must be at least 1")
        self.forward = forward
        self.max_wait_s = max_wait_s
        self.max_windows = max_windows
        self.timeout_s = timeout_s
        self.padding = padding or Padding()
        self._submit = submit
        self._cond = threading.Condition()
        self._queue: deque[_Item] = deque()
        self._preparing = 0  # admitted requests still tokenizing: worth waiting for
        self._running = 0  # requests whose batch is in a forward pass
        self._scheduled = False  # a dispatch loop is queued or running
        self._draining = False  # no waiting for company any more (SIGTERM)
        self._closed = False  # no new requests

    # --- request side -----------------------------------------------------------------------
    @contextmanager
    def reserve(self) -> Iterator[Ticket]:
        """Announce a request that is about to tokenize; `ticket.run(arrays)` inside the block."""
        with self._cond:
            if self._closed:
                raise NotReadyError("server is shutting down; retry on another instance")
            self._preparing += 1
        ticket = Ticket(self)
        try:
            yield ticket
        finally:
            if not ticket.submitted:  # tokenizing failed: nobody to wait for any more
                with self._cond:
                    self._preparing -= 1
                    self._cond.notify_all()

    def run(self, arrays: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, BatchInfo]:
        """Unannounced request: batch `arrays` and wait for its (start, end) logits."""
        with self.reserve() as ticket:
            return ticket.run(arrays)

    def _enqueue(self, arrays: dict[str, np.ndarray]) -> _Item:
        item = _Item(arrays=arrays, arrived=time.perf_counter())
        with self._cond:
            self._preparing -= 1
            if self._closed:
                self._cond.notify_all()
                raise NotReadyError("server is shutting down; retry on another instance")
            self._queue.append(item)
            schedule = not self._scheduled
            self._scheduled = True
            self._cond.notify_all()
        if schedule:
            try:
                self._submit(self._dispatch_loop)
            except RuntimeError:  # the runner is shut down: nothing will run the queue
                self._fail_queued(NotReadyError("server is shutting down; retry on another instance"))
        return item

    def _wait(self, item: _Item) -> tuple[np.ndarray, np.ndarray, BatchInfo]:
        if not item.done.wait(self.timeout_s):
            with self._cond:
                if item.state == _QUEUED:
                    self._queue.remove(item)
                    self._cond.notify_all()
                    raise OverloadedError(
                        f"no batch took this request within {self.timeout_s:g} s; retry later"
                    )
            item.done.wait()  # its batch is running: the answer is moments away
        if item.error is not None:
            raise item.error
        assert item.result is not None and item.info is not None
        return item.result[0], item.result[1], item.info

    # --- lifecycle --------------------------------------------------------------------------
    def begin_drain(self) -> None:
        """SIGTERM: requests already accepted still run, without waiting for company."""
        with self._cond:
            self._draining = True
            self._cond.notify_all()

    def close(self, timeout_s: float | None = None) -> bool:
        """Take no new requests, finish the queued ones; True when all finished in time."""
        deadline = None if timeout_s is None else time.perf_counter() + timeout_s
        with self._cond:
            self._closed = self._draining = True
            self._cond.notify_all()
            while self._queue or self._running or self._scheduled:
                left = None if deadline is None else deadline - time.perf_counter()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left)
        return True

    @property
    def queued(self) -> int:
        return len(self._queue)

    @property
    def closed(self) -> bool:
        """`close` has begun: new requests are refused."""
        return self._closed

    # --- dispatch side (inference thread) ---------------------------------------------------
    def _dispatch_loop(self) -> None:
        try:
            while (batch := self._next_batch()) is not None:
                self._run_batch(batch)
        except BaseException:
            self._fail_queued(NotReadyError("the inference thread stopped; retry"))
            raise

    def _fail_queued(self, error: Exception) -> None:
        """No loop will run the queue: every queued request gets `error` now, not a hang."""
        with self._cond:
            self._scheduled = False
            for item in self._queue:
                item.error = error
                item.state = _DONE
                item.done.set()
            self._queue.clear()
            self._cond.notify_all()

    def _next_batch(self) -> list[_Item] | None:
        with self._cond:
            while True:
                if not self._queue:
                    self._scheduled = False
                    self._cond.notify_all()
                    return None
                now = time.perf_counter()
                deadline = self._queue[0].arrived + self.max_wait_s
                full = sum(item.windows for item in self._queue) >= self.max_windows
                if full or self._draining or self._preparing == 0 or now >= deadline:
                    break
                self._cond.wait(deadline - now)
            batch = [self._queue.popleft()]
            windows = batch[0].windows
            while self._queue and windows + self._queue[0].windows <= self.max_windows:
                windows += self._queue[0].windows
                batch.append(self._queue.popleft())
            for item in batch:
                item.state, item.started = _RUNNING, now
            self._running += len(batch)
            return batch

    def _run_batch(self, batch: list[_Item]) -> None:
        t0 = time.perf_counter()
        try:
            outputs = self._forward_batch(batch)
        except Exception as exc:
            if len(batch) == 1:
                outputs = [exc]
            else:
                # Which request broke it is unknown: each alone, so only that one fails.
                log.warning("batched forward pass failed; rerunning its requests one by one", exc_info=exc)
                outputs = [self._forward_alone(item) for item in batch]
        forward_ms = (time.perf_counter() - t0) * 1000
        windows = sum(item.windows for item in batch)
        with self._cond:
            for item, output in zip(batch, outputs, strict=True):
                if isinstance(output, BaseException):
                    item.error = output
                else:
                    item.result = output
                item.info = BatchInfo(
                    wait_ms=(item.started - item.arrived) * 1000,
                    size=len(batch),
                    windows=windows,
                    forward_ms=forward_ms,
                )
                item.state = _DONE
                item.done.set()
            self._running -= len(batch)
            self._cond.notify_all()

    def _forward_alone(self, item: _Item) -> tuple[np.ndarray, np.ndarray] | BaseException:
        try:
            return self._forward_batch([item])[0]
        except Exception as exc:
            return exc

    def _forward_batch(self, batch: list[_Item]) -> list[tuple[np.ndarray, np.ndarray]]:
        if len(batch) == 1:
            return [self.forward(batch[0].arrays)]
        stacked = stack_windows([item.arrays for item in batch], self.padding)
        start, end = self.forward(stacked)
        return split_rows(start, end, [(item.windows, item.width) for item in batch], self.padding.side)


class Ticket:
    """One announced request: `run(arrays)` once it has tokenized."""

    def __init__(self, batcher: Batcher) -> None:
        self._batcher = batcher
        self.submitted = False

    def run(self, arrays: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, BatchInfo]:
        if self.submitted:
            raise RuntimeError("a ticket runs one request")
        self.submitted = True
        item = self._batcher._enqueue(arrays)
        return self._batcher._wait(item)
