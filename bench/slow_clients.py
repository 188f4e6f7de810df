"""Slow clients against a server: silent connections and ones that trickle a request byte by byte.

`SlowClients(port, silent=50, trickling=50)` is a context manager: on entry it opens the
connections (silent ones send one byte of a request line and go quiet, as in
`printf P | nc`; trickling ones send a valid /predict request one byte per `interval_s`), a
thread keeps the tricklers going, and on exit every socket is closed. `probe_latencies` times
GET /health on fresh connections meanwhile: what a platform's liveness probe sees.
Used by the slow-client test (tests/service/test_service_slow_clients.py) and the study that
chose the server (bench/studies/slow_clients.py).
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time

import requests

from service import routes

_BODY = json.dumps({"question": "What am I?", "context": "Roses are red, violets are blue."}).encode()
REQUEST = (
    b"POST /predict HTTP/1.1\r\nHost: slow\r\nContent-Type: application/json\r\nContent-Length: "
    + str(len(_BODY)).encode()
    + b"\r\n\r\n"
    + _BODY
)


class SlowClients:
    def __init__(self, port: int, *, silent: int = 50, trickling: int = 50, interval_s: float = 0.5) -> None:
        self.port = port
        self.silent, self.trickling, self.interval_s = silent, trickling, interval_s
        self._sockets: list[socket.socket] = []
        self._tricklers: list[tuple[socket.socket, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._trickle, name="trickle", daemon=True)
        self.opened = 0

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        self._sockets.append(sock)
        self.opened += 1
        return sock

    def __enter__(self) -> SlowClients:
        for _ in range(self.silent):
            self._connect().sendall(b"P")
        for _ in range(self.trickling):
            sock = self._connect()
            sock.sendall(REQUEST[:1])
            self._tricklers.append((sock, 1))
        self._thread.start()
        return self

    def _trickle(self) -> None:
        while not self._stop.wait(self.interval_s):
            for i, (sock, sent) in enumerate(self._tricklers):
                if sent < len(REQUEST) - 1:  # never the last byte: the request stays incomplete
                    with contextlib.suppress(OSError):
                        sock.sendall(REQUEST[sent : sent + 1])
                    self._tricklers[i] = (sock, sent + 1)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()


def probe_latencies(url: str, duration_s: float, every_s: float = 0.2, timeout_s: float = 5.0) -> list[float]:
    """Seconds each GET /health took (a new connection each, as a platform probe); a timeout or
    a refused connection counts as `timeout_s`."""
    latencies = []
    end = time.monotonic() + duration_s
    while time.monotonic() < end:
        t0 = time.monotonic()
        try:
            ok = requests.get(url + routes.HEALTH, timeout=timeout_s, headers={"Connection": "close"}).ok
        except requests.RequestException:
            ok = False
        latencies.append(time.monotonic() - t0 if ok else timeout_s)
        time.sleep(every_s)
    return latencies
