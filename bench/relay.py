"""A local HTTP relay: a threaded server on 127.0.0.1 that hands each request to `respond` and
writes back the reply it returns. The base of the local stand-ins for a front end — the bench's
proxy (bench/proxy.py) and the rollout tests' fault and URL-map proxies.

Not for production: no streaming, whole bodies in memory, HTTP/1.1 to the upstreams.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

import requests

# Hop-by-hop headers (RFC 9110 §7.6.1) and ones the relay recomputes itself.
SKIP_HEADERS = frozenset(
    {
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
)


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # with the query, as the client sent it
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class Reply:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @classmethod
    def error(cls, status: int, message: str) -> Reply:
        return cls(status, (("Content-Type", "application/json"),), json.dumps({"error": message}).encode())


def forward(
    request: Request, url: str, *, timeout_s: float, session: requests.Session | None = None
) -> Reply:
    """`request` sent on to `url` (the upstream's base URL + the path to ask for), hop-by-hop
    headers dropped both ways. Raises requests.RequestException when the upstream fails."""
    headers = {k: v for k, v in request.headers.items() if k.lower() not in SKIP_HEADERS}
    upstream = (session or requests).request(
        request.method, url, data=request.body, headers=headers, timeout=timeout_s, allow_redirects=False
    )
    kept = tuple((k, v) for k, v in upstream.headers.items() if k.lower() not in SKIP_HEADERS)
    return Reply(upstream.status_code, kept, upstream.content)


class Relay:
    """Subclasses answer `respond`; `with relay:` serves on `relay.url` until the block ends."""

    thread_name = "relay"

    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, name=self.thread_name, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def respond(self, request: Request) -> Reply:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        relay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                reply = relay.respond(Request(self.command, self.path, dict(self.headers.items()), body))
                self.send_response(reply.status)
                for key, value in reply.headers:
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            do_GET = do_POST = do_PUT = do_DELETE = _relay  # noqa: N815

        return Handler
