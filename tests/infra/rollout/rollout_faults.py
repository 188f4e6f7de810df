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

from bench.relay import Relay, Reply, Request, forward

MODEL_REVISION = "rev-0123abc"  # what the local services report, and the gate expects


class FaultProxy(Relay):
    def __init__(self, upstream: str, *, error_every: int = 0, delay_s: float = 0.0):
        self.upstream = upstream.rstrip("/")
        self.error_every = error_every
        self.delay_s = delay_s
        self.counts: Counter[str] = Counter()
        self._predicts = 0
        self._lock = threading.Lock()
        super().__init__()

    def request_counts(self, revision: str, since: float, until: float) -> dict[str, int]:
        return dict(self.counts)

    name = "fault proxy counts"

    def respond(self, request: Request) -> Reply:
        reply = self._answer(request)
        with self._lock:
            self.counts[f"{reply.status // 100}xx"] += 1
        return reply

    def _answer(self, request: Request) -> Reply:
        if request.path.startswith("/predict") and self.error_every:
            with self._lock:
                self._predicts += 1
                fail = self._predicts % self.error_every == 0
            if fail:
                return Reply.error(500, "injected fault")
        reply = forward(request, self.upstream + request.path, timeout_s=60)
        if self.delay_s:
            time.sleep(self.delay_s)
        return reply
