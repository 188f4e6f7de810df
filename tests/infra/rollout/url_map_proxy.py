"""Stand-in for the front door's URL map: a local reverse proxy that routes each request by a
rendered `gcp.compute.URLMap`'s inputs, as the global external Application Load Balancer
documents them (host rules → path matcher → route rules by priority, `prefixMatch`,
`urlRewrite.pathPrefixRewrite`; otherwise the default service), to the local service standing for
each backend service. No load balancer runs here: this checks the routing the stack declares,
not Google's implementation of it."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from bench.relay import Relay, Reply, Request, forward


def _name(link: str) -> str:
    return link.rsplit("/", 1)[-1]


class UrlMapProxy(Relay):
    def __init__(self, url_map: dict[str, Any], upstreams: dict[str, str]):
        """`upstreams`: backend service name → the local URL standing for it."""
        self.url_map = url_map
        self.upstreams = {name: url.rstrip("/") for name, url in upstreams.items()}
        self.seen: Counter[tuple[str, str]] = Counter()  # (backend service, path it received)
        self._lock = threading.Lock()
        super().__init__()

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

    def respond(self, request: Request) -> Reply:
        backend, path = self.route(request.headers.get("Host", ""), request.path)
        with self._lock:
            self.seen[(backend, path)] += 1
        return forward(request, self.upstreams[backend] + path, timeout_s=60)
