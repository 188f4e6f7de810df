"""The service dashboard as Cloud Monitoring dashboard JSON (a mosaic of 6-column tiles).

Layout (docs/observability.md shows it): request rate by status class | latency p50/p95/p99;
instances | cold starts; CPU | memory utilisation; queue time p50/p95/p99 | startup latency.
Cloud Run tiles query the platform's metrics and this stack's logs-based metrics; Knative tiles
query managed Prometheus (PromQL) over the service's own /metrics and GKE's system metrics.
"""

from __future__ import annotations

import json
from typing import Any

from infra.components.monitoring import catalog
from infra.components.monitoring.alerts import cloud_run_filter
from service import routes

COLUMNS, TILE_WIDTH, TILE_HEIGHT = 12, 6, 4
PERCENTILES = (50, 95, 99)


def _series(filter_: str, aligner: str, reducer: str, group_by: list[str] | None = None, label: str = ""):
    aggregation: dict[str, Any] = {
        "alignmentPeriod": "60s",
        "perSeriesAligner": aligner,
        "crossSeriesReducer": reducer,
    }
    if group_by:
        aggregation["groupByFields"] = group_by
    data_set: dict[str, Any] = {
        "timeSeriesQuery": {"timeSeriesFilter": {"filter": filter_, "aggregation": aggregation}},
        "plotType": "LINE",
    }
    if label:
        data_set["legendTemplate"] = label
    return data_set


def _promql(query: str, label: str = "") -> dict[str, Any]:
    data_set: dict[str, Any] = {"timeSeriesQuery": {"prometheusQuery": query}, "plotType": "LINE"}
    if label:
        data_set["legendTemplate"] = label
    return data_set


def _chart(title: str, data_sets: list[dict[str, Any]], unit: str = "") -> dict[str, Any]:
    chart: dict[str, Any] = {"dataSets": data_sets, "timeshiftDuration": "0s"}
    if unit:
        chart["yAxis"] = {"label": unit, "scale": "LINEAR"}
    return {"title": title, "xyChart": chart}


def _percentiles(filter_: str) -> list[dict[str, Any]]:
    return [_series(filter_, "ALIGN_DELTA", f"REDUCE_PERCENTILE_{p:02d}", label=f"p{p}") for p in PERCENTILES]


def cloud_run_widgets(service_name: str) -> list[dict[str, Any]]:
    svc = service_name

    def f(metric: catalog.Metric) -> str:
        return cloud_run_filter(metric, svc)

    return [
        _chart(
            "Requests/s by status class",
            [
                _series(
                    f(catalog.REQUEST_COUNT), "ALIGN_RATE", "REDUCE_SUM", ["metric.label.response_code_class"]
                )
            ],
            "req/s",
        ),
        _chart("Latency p50 / p95 / p99", _percentiles(f(catalog.REQUEST_LATENCIES)), "ms"),
        _chart(
            "Instances by state",
            [_series(f(catalog.INSTANCE_COUNT), "ALIGN_MAX", "REDUCE_SUM", ["metric.label.state"])],
        ),
        _chart(
            "Cold starts (first request per instance)",
            [_series(f(catalog.COLD_STARTS), "ALIGN_DELTA", "REDUCE_SUM", ["metric.label.revision"])],
            "per min",
        ),
        _chart(
            "CPU utilisation p50 / p99",
            [
                _series(
                    f(catalog.CPU_UTILIZATIONS), "ALIGN_DELTA", f"REDUCE_PERCENTILE_{p:02d}", label=f"p{p}"
                )
                for p in (50, 99)
            ],
        ),
        _chart(
            "Memory utilisation p50 / p99",
            [
                _series(
                    f(catalog.MEMORY_UTILIZATIONS), "ALIGN_DELTA", f"REDUCE_PERCENTILE_{p:02d}", label=f"p{p}"
                )
                for p in (50, 99)
            ],
        ),
        _chart(
            "Queue time (wait for a model slot) p50 / p95 / p99", _percentiles(f(catalog.QUEUE_TIME)), "ms"
        ),
        _chart(
            "Container start-up latency p50 / p95 / p99", _percentiles(f(catalog.STARTUP_LATENCIES)), "ms"
        ),
        # Where new instances' starts went (docs/cold-starts.md): the median of each phase.
        _chart(
            "Start-up phases of new instances, p50",
            [
                _series(f(metric), "ALIGN_DELTA", "REDUCE_PERCENTILE_50", label=phase)
                for phase, metric in catalog.STARTUP_PHASES.items()
            ],
            "s",
        ),
    ]


def knative_widgets(namespace: str) -> list[dict[str, Any]]:
    ns = f'namespace="{namespace}"'
    requests = catalog.SERVICE_REQUESTS.name
    latency = catalog.SERVICE_REQUEST_BUCKETS.name
    queue = catalog.SERVICE_QUEUE_BUCKETS.name

    def quantiles(metric: str, scope: str) -> list[dict[str, Any]]:
        return [
            _promql(
                f"1000 * histogram_quantile({p / 100:g}, sum by (le) (rate({metric}{{{scope}}}[5m])))",
                f"p{p}",
            )
            for p in PERCENTILES
        ]

    predict = f'{ns},route="{routes.PREDICT}"'
    return [
        _chart(
            "Requests/s by status class",
            [
                _promql(
                    f"sum by (class) (label_replace(rate({requests}{{{ns}}}[5m]), "
                    '"class", "${1}xx", "code", "(.).."))'
                )
            ],
            "req/s",
        ),
        _chart(f"Latency p50 / p95 / p99 ({routes.PREDICT})", quantiles(latency, predict), "ms"),
        _chart("Pods serving", [_promql(f"count(count by (pod) ({requests}{{{ns}}}))")]),
        _chart(
            "Container restarts",
            [_promql(f'sum(increase({catalog.GKE_RESTARTS.name}{{namespace_name="{namespace}"}}[5m]))')],
        ),
        _chart(
            "Queued requests (queue-proxy + service)",
            [
                _promql(f"sum({catalog.KNATIVE_QUEUE_DEPTH.name}{{{ns}}})", "queue-proxy"),
                _promql(f"sum({catalog.SERVICE_QUEUE_DEPTH.name}{{{ns}}})", "service"),
            ],
        ),
        _chart("Queue time (wait for a model slot) p50 / p95 / p99", quantiles(queue, ns), "ms"),
    ]


def dashboard_json(title: str, widgets: list[dict[str, Any]]) -> str:
    tiles = [
        {
            "xPos": (index % 2) * TILE_WIDTH,
            "yPos": (index // 2) * TILE_HEIGHT,
            "width": TILE_WIDTH,
            "height": TILE_HEIGHT,
            "widget": widget,
        }
        for index, widget in enumerate(widgets)
    ]
    body = {"displayName": title, "mosaicLayout": {"columns": COLUMNS, "tiles": tiles}}
    return json.dumps(body, indent=2, sort_keys=True)


def layout_rows(widgets: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    """Tile titles row by row, as the docs draw the layout."""
    titles = [w["title"] for w in widgets]
    return [tuple(titles[i : i + 2]) for i in range(0, len(titles), 2)]
