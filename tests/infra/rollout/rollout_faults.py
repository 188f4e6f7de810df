"""A fault-injecting reverse proxy in front of one real service process.

Stand-in for a broken revision behind its tag URL: the service itself answers, and the proxy
turns every n-th /predict into a 500 or holds each answer back by `delay_s` (the test sizes it
from the serving revision's own latency, measured just before). It also counts responses per code class, as Cloud
Run's front end does for `run.googleapis.com/request_count`.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

MODEL_REVISION = "rev-0123abc"  # what the local services report, and the gate expects
SKIP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "server", "date"}


class FaultProxy:
    def __init__(self, upstream: str, *, error_every: int = 0, delay_s: float = 0.0):
        self.upstream = upstream.rstrip("/")
        self.error_every = error_every
        self.delay_s = delay_s
        self.counts: Counter[str] = Counter()
        self._predicts = 0
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def request_counts(self, revision: str, since: float, until: float) -> dict[str, int]:
        return dict(self.counts)

    name = "fault proxy counts"

    def __enter__(self) -> FaultProxy:
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
                with proxy._lock:
                    proxy.counts[f"{status // 100}xx"] += 1
                self.send_response(status)
                for key, value in headers:
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if self.path.startswith("/predict") and proxy.error_every:
                    with proxy._lock:
                        proxy._predicts += 1
                        fail = proxy._predicts % proxy.error_every == 0
                    if fail:
                        self._reply(
                            500, [("Content-Type", "application/json")], b'{"error": "injected fault"}'
                        )
                        return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in SKIP_HEADERS}
                upstream = requests.request(
                    self.command, proxy.upstream + self.path, data=body, headers=headers, timeout=60
                )
                if proxy.delay_s:
                    time.sleep(proxy.delay_s)
                out = [(k, v) for k, v in upstream.headers.items() if k.lower() not in SKIP_HEADERS]
                self._reply(upstream.status_code, out, upstream.content)

            do_GET = do_POST = _forward  # noqa: N815

        return Handler
