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

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

# Hop-by-hop headers (RFC 9110 §7.6.1) and ones the proxy recomputes itself.
_SKIP_HEADERS = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-authorization",
    "proxy-authenticate",
    "content-length",
    "host",
    "content-encoding",
    "server",
    "date",
}


class Backend:
    def __init__(self, url: str, ready: bool = True):
        self.url = url.rstrip("/")
        self.ready = threading.Event()
        self.in_flight = 0
        if ready:
            self.ready.set()


class FrontEndProxy:
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
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, name="bench-proxy", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

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

    def __enter__(self) -> FrontEndProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _reply(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
                self.send_response(status)
                for key, value in headers:
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _error(self, status: int, message: str) -> None:
                body = json.dumps({"error": message}).encode()
                self._reply(status, [("Content-Type", "application/json")], body)

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                backend = proxy._acquire()
                if backend is None:
                    self._error(503, f"proxy: no backend free within {proxy.ready_timeout_s:g} s")
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _SKIP_HEADERS}
                try:
                    upstream = proxy._session().request(
                        self.command,
                        backend.url + self.path,
                        data=body,
                        headers=headers,
                        timeout=proxy.request_timeout_s,
                        allow_redirects=False,
                    )
                except requests.RequestException as exc:
                    self._error(502, f"proxy: {type(exc).__name__} from {backend.url}")
                    return
                finally:
                    proxy._release(backend)
                out = [(k, v) for k, v in upstream.headers.items() if k.lower() not in _SKIP_HEADERS]
                self._reply(upstream.status_code, out, upstream.content)

            do_GET = do_POST = do_PUT = do_DELETE = _forward  # noqa: N815

        return Handler
