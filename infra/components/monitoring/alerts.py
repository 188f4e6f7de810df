"""Alert policies on what hurts an ML service: saturation, slow cold starts, overload, memory.

Cloud Run: metric-threshold conditions on the platform's own metrics (Knative: promql_alerts.py).
Each policy carries documentation saying what to check first.
Pure builders: plain dicts of pulumi-gcp AlertPolicy inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infra.components.monitoring import catalog
from service import routes

# Shares, not measurements: where an alert starts to matter.
OVERLOAD_SHARE = 0.05  # 429/503 among all requests
MEMORY_SHARE = 0.9  # of the memory limit (the p99 instance)
WINDOW = "300s"


@dataclass(frozen=True)
class AlertSpec:
    key: str  # resource name suffix, unique in the stack
    display_name: str
    severity: str
    documentation: str
    conditions: tuple[dict[str, Any], ...]
    combiner: str = "OR"

    def args(self, channels: list[Any], labels: dict[str, str]) -> dict[str, Any]:
        return {
            "display_name": self.display_name,
            "combiner": self.combiner,
            "severity": self.severity,
            "conditions": list(self.conditions),
            "documentation": {"content": self.documentation, "mime_type": "text/markdown"},
            "notification_channels": channels,
            "alert_strategy": {"auto_close": "86400s"},
            "user_labels": labels,
        }


def cloud_run_filter(metric: catalog.Metric, service_name: str, *extra: str) -> str:
    clauses = [
        f'metric.type="{metric.name}"',
        f'resource.type="{catalog.CLOUD_RUN_REVISION}"',
        f'resource.label.service_name="{service_name}"',
        *extra,
    ]
    return " AND ".join(clauses)


def _threshold(
    name: str,
    filter_: str,
    threshold: float,
    aligner: str,
    reducer: str,
    *,
    duration: str = WINDOW,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "display_name": name,
        "condition_threshold": {
            "filter": filter_,
            "comparison": "COMPARISON_GT" if not extra.pop("at_least", False) else "COMPARISON_GE",
            "threshold_value": threshold,
            "duration": duration,
            "aggregations": [
                {"alignment_period": "60s", "per_series_aligner": aligner, "cross_series_reducer": reducer}
            ],
            "trigger": {"count": 1},
            **extra,
        },
    }


def cloud_run_alerts(service_name: str, *, max_instances: int, model_load_seconds: int) -> list[AlertSpec]:
    svc = service_name
    overload = cloud_run_filter(catalog.REQUEST_COUNT, svc, 'metric.label.response_code=one_of("429", "503")')
    return [
        AlertSpec(
            "instances-at-max",
            f"{svc}: instances at maxInstances ({max_instances})",
            "ERROR",
            f"Every allowed instance ({max_instances}) is running for 5 min: new requests queue at the "
            "front end and then get 429.\n\nCheck first: the request rate on the dashboard (a real "
            "surge, or a client retry loop?); queue time and latency p99 (are instances slower than "
            "usual: a new revision, longer contexts?). Raise `maxInstances` (and the quota) if the "
            "traffic is real.",
            (
                _threshold(
                    "instance count >= maxInstances",
                    cloud_run_filter(catalog.INSTANCE_COUNT, svc),
                    max_instances,
                    "ALIGN_MAX",
                    "REDUCE_SUM",
                    at_least=True,
                ),
            ),
        ),
        AlertSpec(
            "slow-cold-starts",
            f"{svc}: container start-up slower than modelLoadSeconds ({model_load_seconds} s)",
            "WARNING",
            f"The p95 start-up latency of new instances is above {model_load_seconds} s, the start-up "
            "time the startup probe is sized for: cold requests wait that long, and at twice it the "
            "probe kills the instance.\n\nCheck first: the image (did the model or its runtime change: "
            "`runtime`, `precision`?); `startupCpuBoost`; the 'model loaded' and 'model ready' log "
            "lines (load_ms, warmup_ms) of recent instances.",
            (
                _threshold(
                    "startup latency p95 > modelLoadSeconds",
                    cloud_run_filter(catalog.STARTUP_LATENCIES, svc),
                    model_load_seconds * 1000,
                    "ALIGN_PERCENTILE_95",
                    "REDUCE_MAX",
                    duration="0s",
                ),
            ),
        ),
        AlertSpec(
            "overload",
            f"{svc}: 429/503 above {OVERLOAD_SHARE:.0%} of requests",
            "ERROR",
            f"More than {OVERLOAD_SHARE:.0%} of requests over 5 min were refused (429 from the front "
            "end at maxInstances, 503 from the service's admission queue).\n\nCheck first: the "
            "instances-at-max alert; queue time on the dashboard; the service's `MAX_QUEUE` and "
            "`concurrency` (requests beyond slots + queue get 503 at once).",
            (
                _threshold(
                    f"429/503 share of requests > {OVERLOAD_SHARE:.0%}",
                    overload,
                    OVERLOAD_SHARE,
                    "ALIGN_RATE",
                    "REDUCE_SUM",
                    denominator_filter=cloud_run_filter(catalog.REQUEST_COUNT, svc),
                    denominator_aggregations=[
                        {
                            "alignment_period": "60s",
                            "per_series_aligner": "ALIGN_RATE",
                            "cross_series_reducer": "REDUCE_SUM",
                        }
                    ],
                ),
            ),
        ),
        AlertSpec(
            "memory-near-limit",
            f"{svc}: memory above {MEMORY_SHARE:.0%} of the limit",
            "WARNING",
            f"The busiest instance uses more than {MEMORY_SHARE:.0%} of its memory limit for 5 min: an "
            "OOM kill (a crashed instance, failed requests, a cold start) is next.\n\nCheck first: "
            "long contexts (windows per request: each window is one more row in the batch); "
            "`MAX_BATCH_WINDOWS`; `concurrency` × the per-request peak; raise `memory` if the model "
            "itself grew.",
            (
                _threshold(
                    f"memory utilisation p99 > {MEMORY_SHARE:.0%}",
                    cloud_run_filter(catalog.MEMORY_UTILIZATIONS, svc),
                    MEMORY_SHARE,
                    "ALIGN_PERCENTILE_99",
                    "REDUCE_MAX",
                ),
            ),
        ),
    ]


def uptime_conditions(check_id: str, resource_type: str) -> list[dict[str, Any]]:
    filter_ = (
        f'metric.type="{catalog.UPTIME_CHECK_PASSED.name}" AND metric.label.check_id="{check_id}" '
        f'AND resource.type="{resource_type}"'
    )
    return [
        {
            "display_name": "uptime check failing from 2+ regions",
            "condition_threshold": {
                "filter": filter_,
                "comparison": "COMPARISON_GT",
                "threshold_value": 1,
                "duration": WINDOW,
                "aggregations": [
                    {
                        "alignment_period": "1200s",
                        "per_series_aligner": "ALIGN_NEXT_OLDER",
                        "cross_series_reducer": "REDUCE_COUNT_FALSE",
                        "group_by_fields": ["resource.label.*"],
                    }
                ],
                "trigger": {"count": 1},
            },
        }
    ]


def uptime_alert(service_name: str) -> AlertSpec:
    """The policy on the uptime check; its condition needs the check's id (uptime_conditions)."""
    return AlertSpec(
        "uptime",
        f"{service_name}: {routes.HEALTH} failing",
        "CRITICAL",
        f"GET {routes.HEALTH} failed from more than one checker region for 5 min: the service is down or "
        "unreachable.\n\nCheck first: the latest revision's status and crash lines in its log "
        "('model failed to load'); a changed ingress or IAM (private Cloud Run services: the "
        "Monitoring service agent needs roles/run.invoker); on Knative, the ingress IP and the pods.",
        (),
    )
