"""A tiny round-robin reverse proxy: several local service processes behind one URL.

It stands in for Cloud Run's front end in local runs and tests: requests are dealt to the
backends in turn, and a backend can be added while it is still starting — requests dealt
to it wait until it is marked ready, the way a request that triggers a scale-out waits for
the new container. The load harness then sees what it would see on Cloud Run: a new
instance id whose first requests carry the start-up wait in their latency.

Not for production: no streaming, whole bodies in memory, HTTP/1.1 to the backends.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

# Hop-by-hop headers (RFC 9110 §7.6.1) and ones the proxy recomputes itself.
_SKIP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
                 "proxy-authorization", "proxy-authenticate", "content-length", "host",
                 "content-encoding", "server", "date"}  # fmt: skip


class Backend:
    def __init__(self, url: str, ready: bool = True):
        self.url = url.rstrip("/")
        self.ready = threading.Event()
        if ready:
            self.ready.set()


class RoundRobinProxy:
    def __init__(self, ready_timeout_s: float = 120.0, request_timeout_s: float = 60.0):
        self.backends: list[Backend] = []
        self.ready_timeout_s = ready_timeout_s
        self.request_timeout_s = request_timeout_s
        self._lock = threading.Lock()
        self._turn = 0
        self._local = threading.local()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, name="bench-proxy",
                                        daemon=True)  # fmt: skip

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def add(self, url: str, ready: bool = True) -> Backend:
        backend = Backend(url, ready)
        with self._lock:
            self.backends.append(backend)
        return backend

    def _next(self) -> Backend | None:
        with self._lock:
            if not self.backends:
                return None
            backend = self.backends[self._turn % len(self.backends)]
            self._turn += 1
            return backend

    def _session(self) -> requests.Session:
        if getattr(self._local, "session", None) is None:
            self._local.session = requests.Session()
        return self._local.session

    def __enter__(self) -> RoundRobinProxy:
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
                backend = proxy._next()
                if backend is None:
                    self._error(503, "proxy: no backends")
                    return
                if not backend.ready.wait(proxy.ready_timeout_s):
                    self._error(503, f"proxy: backend {backend.url} did not become ready")
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _SKIP_HEADERS}
                try:
                    upstream = proxy._session().request(
                        self.command, backend.url + self.path, data=body, headers=headers,
                        timeout=proxy.request_timeout_s, allow_redirects=False,
                    )  # fmt: skip
                except requests.RequestException as exc:
                    self._error(502, f"proxy: {type(exc).__name__} from {backend.url}")
                    return
                out = [(k, v) for k, v in upstream.headers.items() if k.lower() not in _SKIP_HEADERS]
                self._reply(upstream.status_code, out, upstream.content)

            do_GET = do_POST = do_PUT = do_DELETE = _forward  # noqa: N815

        return Handler
