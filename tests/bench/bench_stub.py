"""A stand-in for the QA service with known behaviour, for exact checks of the harness.

Each request's JSON body may say how to answer it: `delay_ms` (the stub sleeps that long
and reports it as Server-Timing `total`, with `inference` = 80 % of it) and `status`.
Requests are dealt round-robin to `instances` simulated instances; each instance counts its
requests like the real service, and its first request is held `cold_delay_ms` longer
*before* the app's timer starts — the way a request waits for a Cloud Run container.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bench.headers import INSTANCE_ID, INSTANCE_REGION, INSTANCE_REQUEST_COUNT, SERVER_TIMING


class StubServer:
    def __init__(
        self,
        instances: int = 1,
        cold_delay_ms: float = 0.0,
        default_delay_ms: float = 0.0,
        instance_prefix: str = "stub",
        send_headers: bool = True,
        *,
        regions: Sequence[str] = (),
    ):
        """`regions`: instance i answers from regions[i % len(regions)] (none: no region header)."""
        self.ids = [f"{instance_prefix}{i}" for i in range(instances)]
        self.counts = dict.fromkeys(self.ids, 0)
        self.region = {i: regions[n % len(regions)] for n, i in enumerate(self.ids)} if regions else {}
        self.cold_delay_ms = cold_delay_ms
        self.default_delay_ms = default_delay_ms
        self.send_headers = send_headers
        self.lock = threading.Lock()
        self.turn = itertools.cycle(self.ids)
        self.received: list[dict] = []
        self.in_flight = 0
        self.max_in_flight = 0  # most requests being handled at once
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> StubServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                with stub.lock:
                    instance = next(stub.turn)
                    stub.counts[instance] += 1
                    count = stub.counts[instance]
                    stub.received.append(
                        {
                            **body,
                            "_instance": instance,
                            "_auth": self.headers.get("Authorization"),
                            "_host": self.headers.get("Host"),
                        }
                    )
                    stub.in_flight += 1
                    stub.max_in_flight = max(stub.max_in_flight, stub.in_flight)
                try:
                    status, data, delay_ms = self._answer(body, count)
                finally:
                    # Done before the answer is written: a client may send its next request the
                    # moment it has read this one, and that must not count as two at once.
                    with stub.lock:
                        stub.in_flight -= 1
                self._send(status, data, delay_ms, instance, count)

            def _answer(self, body: dict, count: int) -> tuple[int, bytes, float]:
                if count == 1 and stub.cold_delay_ms:
                    time.sleep(stub.cold_delay_ms / 1000)
                delay_ms = float(body.get("delay_ms", stub.default_delay_ms))
                time.sleep(delay_ms / 1000)
                status = int(body.get("status", 200))
                payload = (
                    {"answer": "sweet", "score": 0.9, "start": 0, "end": 5}
                    if status == 200
                    else {"error": f"stub status {status}"}
                )
                return status, json.dumps(payload).encode(), delay_ms

            def _send(self, status: int, data: bytes, delay_ms: float, instance: str, count: int) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if stub.send_headers:
                    self.send_header(INSTANCE_ID, instance)
                    self.send_header(INSTANCE_REQUEST_COUNT, str(count))
                    if instance in stub.region:
                        self.send_header(INSTANCE_REGION, stub.region[instance])
                    self.send_header(
                        SERVER_TIMING, f"inference;dur={delay_ms * 0.8:g}, total;dur={delay_ms:g}"
                    )
                self.end_headers()
                self.wfile.write(data)

        return Handler
