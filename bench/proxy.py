"""A tiny reverse proxy: several local service processes behind one URL.

It stands in for Cloud Run's front end in local runs and tests. Each request goes to the
ready backend with the fewest requests in flight (ties taken in turn, so idle backends
alternate). With `backend_concurrency` set, a backend never has more than that many
requests in flight — like Cloud Run's per-instance concurrency — and requests that find
every ready backend full wait in the proxy until one frees up or a new backend becomes
ready. A backend can be added while it is still starting (`ready=False`); the queued
requests it then takes show their wait as time outside the app, as on Cloud Run when a
scale-out is what a request was waiting for.

Not for production: no streaming, whole bodies in memory, HTTP/1.1 to the backends.
"""

from __future__ import annotations

import threading
import time
from collections import deque

import requests

from bench.relay import Relay, Reply, Request, forward


class Backend:
    def __init__(self, url: str, ready: bool = True):
        self.url = url.rstrip("/")
        self.ready = threading.Event()
        self.in_flight = 0
        if ready:
            self.ready.set()


class FrontEndProxy(Relay):
    thread_name = "bench-proxy"

    def __init__(
        self,
        backend_concurrency: int | None = None,
        ready_timeout_s: float = 120.0,
        request_timeout_s: float = 60.0,
    ):
        self.backends: list[Backend] = []
        self.backend_concurrency = backend_concurrency
        self.ready_timeout_s = ready_timeout_s  # longest a request waits for a free backend
        self.request_timeout_s = request_timeout_s
        self._lock = threading.Condition()
        self._turn = 0
        self._queue: deque[object] = deque()  # requests waiting for a backend, oldest first
        self.arrived = 0  # requests that have taken their place in line, ever
        self._local = threading.local()
        super().__init__()

    def add(self, url: str, ready: bool = True) -> Backend:
        backend = Backend(url, ready)
        with self._lock:
            self.backends.append(backend)
            self._lock.notify_all()
        return backend

    def mark_ready(self, backend: Backend) -> None:
        with self._lock:
            backend.ready.set()
            self._lock.notify_all()

    def _pick(self) -> Backend | None:
        """The ready backend with the fewest in flight and room for one more (caller holds the lock)."""
        n = len(self.backends)
        order = [self.backends[(self._turn + i) % n] for i in range(n)]
        room = [
            b
            for b in order
            if b.ready.is_set()
            and (self.backend_concurrency is None or b.in_flight < self.backend_concurrency)
        ]
        if not room:
            return None
        self._turn += 1
        return min(room, key=lambda b: b.in_flight)  # min keeps the first of equals: turns

    def _acquire(self) -> Backend | None:
        """Wait in line (first come, first served) for a backend with room."""
        deadline = time.monotonic() + self.ready_timeout_s
        ticket = object()
        with self._lock:
            self._queue.append(ticket)
            self.arrived += 1
            try:
                while self._queue[0] is not ticket or (backend := self._pick()) is None:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return None
                    self._lock.wait(min(left, 0.05))  # also polls `ready` set without mark_ready
                backend.in_flight += 1
                return backend
            finally:
                self._queue.remove(ticket)
                self._lock.notify_all()  # the next in line may go now

    def _release(self, backend: Backend) -> None:
        with self._lock:
            backend.in_flight -= 1
            self._lock.notify_all()

    def _session(self) -> requests.Session:
        if getattr(self._local, "session", None) is None:
            self._local.session = requests.Session()
        return self._local.session

    def respond(self, request: Request) -> Reply:
        backend = self._acquire()
        if backend is None:
            return Reply.error(503, f"proxy: no backend free within {self.ready_timeout_s:g} s")
        try:
            return forward(
                request, backend.url + request.path, timeout_s=self.request_timeout_s, session=self._session()
            )
        except requests.RequestException as exc:
            return Reply.error(502, f"proxy: {type(exc).__name__} from {backend.url}")
        finally:
            self._release(backend)
