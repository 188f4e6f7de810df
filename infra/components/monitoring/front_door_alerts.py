"""Alerts on the global front door's own metrics (docs/multi-region.md): what clients see before
any region does — 5xx at the load balancer (no healthy region, or every region failing) and its
end-to-end latency. Pure builders, like alerts.py."""

from __future__ import annotations

from infra.components.monitoring import catalog
from infra.components.monitoring.alerts import WINDOW, AlertSpec, _threshold

LB_ERROR_SHARE = 0.01  # 5xx among the front door's requests: an availability SLO's whole budget


def lb_filter(metric: catalog.Metric, url_map: str, backend: str, *extra: str) -> str:
    """Users' requests only: the URL map's, to the users' backend service (a gated rollout's gate
    calls a candidate through backend services of its own, and a bad candidate must not page)."""
    clauses = [
        f'metric.type="{metric.name}"',
        f'resource.type="{catalog.HTTPS_LB_RULE}"',
        f'resource.label.url_map_name="{url_map}"',
        f'resource.label.backend_target_name="{backend}"',
        *extra,
    ]
    return " AND ".join(clauses)


def front_door_alerts(
    service_name: str, url_map: str, backend: str, latency_threshold_ms: int
) -> list[AlertSpec]:
    """None without a front door (`url_map` "")."""
    if not url_map:
        return []
    rate = [
        {"alignment_period": "60s", "per_series_aligner": "ALIGN_RATE", "cross_series_reducer": "REDUCE_SUM"}
    ]
    return [
        AlertSpec(
            "front-door-5xx",
            f"{service_name}: front door 5xx above {LB_ERROR_SHARE:.0%} of requests",
            "CRITICAL",
            f"More than {LB_ERROR_SHARE:.0%} of the requests the global load balancer served over 5 min "
            "got a 5xx: no region could serve them.\n\nCheck first: each region's SLO (one region "
            "down should fail over; all of them failing is a release: `make rollback`); the "
            "load balancer's request logs (statusDetails names the cause, e.g. "
            "failed_to_pick_backend); `minInstances` (service health needs one per region).",
            (
                _threshold(
                    f"5xx share of front-door requests > {LB_ERROR_SHARE:.0%}",
                    lb_filter(
                        catalog.LB_REQUEST_COUNT, url_map, backend, "metric.label.response_code_class=500"
                    ),
                    LB_ERROR_SHARE,
                    "ALIGN_RATE",
                    "REDUCE_SUM",
                    denominator_filter=lb_filter(catalog.LB_REQUEST_COUNT, url_map, backend),
                    denominator_aggregations=rate,
                ),
            ),
        ),
        AlertSpec(
            "front-door-latency",
            f"{service_name}: front door p95 latency above {latency_threshold_ms} ms",
            "WARNING",
            f"The p95 latency clients see at the load balancer is above the latency SLO's threshold "
            f"({latency_threshold_ms} ms) for {WINDOW}.\n\nCheck first: which region serves (a "
            "failover sends users to a farther region); cold starts and queue time per region on "
            "the dashboard.",
            (
                _threshold(
                    f"front-door latency p95 > {latency_threshold_ms} ms",
                    lb_filter(catalog.LB_TOTAL_LATENCIES, url_map, backend),
                    latency_threshold_ms,
                    "ALIGN_PERCENTILE_95",
                    "REDUCE_MAX",
                ),
            ),
        ),
    ]
