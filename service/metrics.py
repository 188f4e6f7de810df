"""Prometheus metrics of one service instance, served at GET /metrics (prometheus_client).

One registry per app (the app is a factory: tests build many in one process), holding the
request histograms, the admission gauges, the model's identity as an info metric and the
library's process/platform/GC collectors. Multiprocess mode is not needed: gunicorn runs ONE
worker process (service/gunicorn.conf.py) whose threads share this registry, and the master
serves no requests, so every sample a scrape should see lives in the process that answers it.

Off the hot path: samples are recorded after the response is built (the request hook) from
timings the request already measured; nothing here runs while a model slot is held. The
gauges read Admission's counters at scrape time instead of being updated per request.
Metric names live in service/metric_names.py, shared with the infra side, so a rename breaks a
test instead of silently emptying an alert.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily, StateSetMetricFamily
from prometheus_client.registry import Collector

from service.admission import Admission
from service.lifecycle import DRAINING, FAILED, LOADING, READY, ServiceState
from service.metric_names import (
    IN_FLIGHT,
    INFERENCE_SECONDS,
    MODEL_INFO,
    PHASE,
    QUEUE_DEPTH,
    QUEUE_SECONDS,
    REQUEST_SECONDS,
    STARTUP_PHASE_SECONDS,
    WINDOWS,
)

PHASES = (LOADING, READY, DRAINING, FAILED)

# Seconds. Fine below a second, where a CPU forward pass lands; coarse up to the request timeout.
# Laid out by hand (fmt: skip): the bounds read as a scale, in rows.
LATENCY_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75,
    1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0,
)  # fmt: skip
WINDOW_BUCKETS = (1, 2, 3, 4, 6, 8, 12, 16, 32, 64)


class _ModelCollector(Collector):
    """The model's identity and the instance's phase, read from the state at scrape time (the
    backend the manifest chose is known only once the model has loaded)."""

    def __init__(self, state: ServiceState, runtime: str, precision: str) -> None:
        self.state, self.runtime, self.precision = state, runtime, precision

    def collect(self) -> Iterator[InfoMetricFamily | StateSetMetricFamily | GaugeMetricFamily]:
        backend = self.state.model.backend if self.state.model is not None else None
        info = InfoMetricFamily(MODEL_INFO, "The model this instance serves and how it runs it")
        info.add_metric(
            [],
            {
                "model_id": self.state.model_id,
                "model_revision": self.state.model_revision,
                "runtime": str(getattr(backend, "name", self.runtime)),
                "precision": str(getattr(backend, "precision", self.precision)),
                # Cloud Run and Knative both name the serving revision in K_REVISION.
                "service_revision": os.environ.get("K_REVISION", ""),
                "instance_id": self.state.instance_id,
            },
        )
        yield info
        phase = StateSetMetricFamily(PHASE, "Lifecycle phase of this instance")
        phase.add_metric([], {name: self.state.phase == name for name in PHASES})
        yield phase
        if self.state.ready_at is not None:  # the start's phases are known once it is ready
            startup = GaugeMetricFamily(
                STARTUP_PHASE_SECONDS,
                "Seconds this instance's start waited on each phase, process start to ready",
                labels=["phase"],
            )
            for name, seconds in self.state.startup.phases().items():
                startup.add_metric([name], seconds)
            yield startup


class ServiceMetrics:
    def __init__(self, state: ServiceState, admission: Admission, *, runtime: str, precision: str) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
            self.registry.register(collector)
        self.registry.register(_ModelCollector(state, runtime, precision))
        reg = self.registry
        self.requests = Histogram(
            REQUEST_SECONDS,
            "Time from request received to response built, by route and status code",
            ["route", "code"],
            buckets=LATENCY_BUCKETS,
            registry=reg,
        )
        self.inference = Histogram(
            INFERENCE_SECONDS, "Model forward passes of one request", buckets=LATENCY_BUCKETS, registry=reg
        )
        self.queue = Histogram(
            QUEUE_SECONDS, "Wait for a model slot (admission)", buckets=LATENCY_BUCKETS, registry=reg
        )
        self.windows = Histogram(
            WINDOWS, "Sliding windows one context was split into", buckets=WINDOW_BUCKETS, registry=reg
        )
        _gauge(QUEUE_DEPTH, "Requests waiting for a model slot", lambda: admission.waiting, reg)
        _gauge(IN_FLIGHT, "Requests holding a model slot", lambda: admission.running, reg)

    def observe(self, route: str, status: int, timings_ms: dict[str, float], windows: int | None) -> None:
        """Record one finished request (called after the response is built)."""
        self.requests.labels(route, str(status)).observe(timings_ms["total"] / 1000)
        if windows is not None:  # a request that reached the model
            self.inference.observe(timings_ms.get("inference", 0.0) / 1000)
            self.queue.observe(timings_ms.get("queue", 0.0) / 1000)
            self.windows.observe(windows)

    def exposition(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def _gauge(name: str, documentation: str, read: Callable[[], float], registry: CollectorRegistry) -> None:
    Gauge(name, documentation, registry=registry).set_function(read)
