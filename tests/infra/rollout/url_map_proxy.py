"""Stand-in for the front door's URL map: a local reverse proxy that routes each request by a
rendered `gcp.compute.URLMap`'s inputs, as the global external Application Load Balancer
documents them (host rules → path matcher → route rules by priority, `prefixMatch`,
`urlRewrite.pathPrefixRewrite`; otherwise the default service), to the local service standing for
each backend service. No load balancer runs here: this checks the routing the stack declares,
not Google's implementation of it."""

from __future__ import annotations

import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests
from rollout_faults import SKIP_HEADERS


def _name(link: str) -> str:
    return link.rsplit("/", 1)[-1]


class UrlMapProxy:
    def __init__(self, url_map: dict[str, Any], upstreams: dict[str, str]):
        """`upstreams`: backend service name → the local URL standing for it."""
        self.url_map = url_map
        self.upstreams = {name: url.rstrip("/") for name, url in upstreams.items()}
        self.seen: Counter[tuple[str, str]] = Counter()  # (backend service, path it received)
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def route(self, host: str, path: str) -> tuple[str, str]:
        """(backend service name, the path it receives) for a request."""
        matcher_name = next(
            (
                rule["pathMatcher"]
                for rule in self.url_map.get("hostRules", ())
                if "*" in rule["hosts"] or host in rule["hosts"]
            ),
            None,
        )
        if matcher_name is None:
            return _name(self.url_map["defaultService"]), path
        [matcher] = [m for m in self.url_map["pathMatchers"] if m["name"] == matcher_name]
        for rule in sorted(matcher.get("routeRules", ()), key=lambda r: r["priority"]):
            for match in rule["matchRules"]:
                prefix = match["prefixMatch"]
                if path.startswith(prefix):
                    rewrite = rule.get("routeAction", {}).get("urlRewrite", {}).get("pathPrefixRewrite")
                    return _name(rule["service"]), (rewrite + path[len(prefix) :] if rewrite else path)
        return _name(matcher["defaultService"]), path

    def __enter__(self) -> UrlMapProxy:
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

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                backend, path = proxy.route(self.headers.get("Host", ""), self.path)
                with proxy._lock:
                    proxy.seen[(backend, path)] += 1
                headers = {k: v for k, v in self.headers.items() if k.lower() not in SKIP_HEADERS}
                upstream = requests.request(
                    self.command, proxy.upstreams[backend] + path, data=body, headers=headers, timeout=60
                )
                self.send_response(upstream.status_code)
                for key, value in upstream.headers.items():
                    if key.lower() not in SKIP_HEADERS:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(upstream.content)))
                self.end_headers()
                self.wfile.write(upstream.content)

            do_GET = do_POST = do_PUT = do_DELETE = _forward  # noqa: N815

        return Handler
