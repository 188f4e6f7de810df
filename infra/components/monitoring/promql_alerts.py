"""Alert policies for Knative on GKE: PromQL conditions over managed Prometheus data.

Cloud Monitoring evaluates PromQL alert policies itself, so these notify the same channels as
the Cloud Run ones, appear in the same review table and need no Alertmanager (Rules CRs would
evaluate in-cluster and notify only through an Alertmanager the stack would have to run).
Sources: GKE system metrics (always on), kube-state-metrics (the cluster's POD package),
Knative's queue-proxy, and the service's own /metrics.
"""

from __future__ import annotations

from typing import Any

from infra.components.monitoring import catalog
from infra.components.monitoring.alerts import WINDOW, AlertSpec
from infra.components.monitoring.slo import BURN_RATE_WINDOWS
from infra.spec import CONTAINER_NAME
from service import routes


def _promql(name: str, query: str, duration: str = WINDOW) -> dict[str, Any]:
    return {
        "display_name": name,
        "condition_prometheus_query_language": {
            "query": query,
            "duration": duration,
            "evaluation_interval": "60s",
        },
    }


def knative_alerts(service_name: str, namespace: str, *, container: str = CONTAINER_NAME) -> list[AlertSpec]:
    ns = f'namespace="{namespace}"'
    return [
        AlertSpec(
            "pod-restarts",
            f"{service_name}: model pods restarting",
            "ERROR",
            "A model container restarted in the last 15 min.\n\nCheck first: `kubectl -n "
            f"{namespace} describe pod` (Last State: OOMKilled? liveness probe?), the previous "
            f"container's log (`kubectl logs --previous -c {container}`).",
            (
                _promql(
                    "container restarts (15 min)",
                    f'sum(increase({catalog.GKE_RESTARTS.name}{{namespace_name="{namespace}",'
                    f'container_name="{container}"}}[15m])) > 0',
                    duration="0s",
                ),
            ),
        ),
        AlertSpec(
            "oom-kills",
            f"{service_name}: model pods OOM-killed",
            "ERROR",
            "A model container was OOM-killed and restarted.\n\nCheck first: long contexts "
            "(windows per request), `MAX_BATCH_WINDOWS`, concurrency × per-request peak; raise "
            "`memory` (and check it still fits `gkeMachineType`).",
            (
                _promql(
                    "OOMKilled and restarted (15 min)",
                    f"sum(max by (pod) ({catalog.KSM_TERMINATED_REASON.name}{{{ns},"
                    f'reason="OOMKilled"}}) * on (pod) max by (pod) (increase('
                    f"{catalog.KSM_RESTARTS.name}{{{ns}}}[15m]))) > 0",
                    duration="0s",
                ),
            ),
        ),
        AlertSpec(
            "pending-pods",
            f"{service_name}: pods pending",
            "WARNING",
            "Model pods have waited 10 min for a node: the node pool is full or at `gkeMaxNodes`.\n\n"
            f"Check first: `kubectl -n {namespace} get events` (Insufficient cpu/memory?), the "
            "cluster autoscaler's events, `gkeMaxNodes` against `maxInstances`.",
            (
                _promql(
                    "pods Pending",
                    f'sum({catalog.KSM_POD_PHASE.name}{{{ns},phase="Pending"}}) > 0',
                    duration="600s",
                ),
            ),
        ),
        AlertSpec(
            "queueing",
            f"{service_name}: requests queueing",
            "WARNING",
            "Requests have been waiting for 5 min: in the pods' queue-proxy (what the activator "
            "forwards when every pod is at containerConcurrency) or in the service's own admission "
            "queue.\n\nCheck first: pods at maxInstances or Pending (node pool full); the "
            "autoscaler's target (`knativeTarget`) against `concurrency`.",
            (
                _promql(
                    "queued requests",
                    # `or vector(0)`: either source may be missing (a sum over nothing is empty).
                    f"(sum({catalog.KNATIVE_QUEUE_DEPTH.name}{{{ns}}}) or vector(0)) "
                    f"+ (sum({catalog.SERVICE_QUEUE_DEPTH.name}{{{ns}}}) or vector(0)) > 0",
                ),
            ),
        ),
    ]


def knative_burn_rate_query(namespace: str, objective: float, burn_rate: float, window: str) -> str:
    """Share of 5xx among the service's requests over `window`, above burn_rate × budget."""
    requests = catalog.SERVICE_REQUESTS.name
    scope = f'namespace="{namespace}",route="{routes.PREDICT}"'
    return (
        f'sum(rate({requests}{{{scope},code=~"5.."}}[{window}])) '
        f"/ sum(rate({requests}{{{scope}}}[{window}])) "
        f"> {burn_rate:g} * {1 - objective:.6g}"
    )


def knative_burn_rate_alerts(
    service_name: str, namespace: str, goal: float, period_days: int
) -> list[AlertSpec]:
    """The same multi-window burn-rate alerts as the Cloud Run SLOs, over the service's own
    request counter (Cloud Monitoring SLOs cannot be defined on PromQL)."""
    specs = []
    for window in BURN_RATE_WINDOWS:
        rate = window.burn_rate(period_days)
        conditions = tuple(
            _promql(
                f"5xx burn rate > {rate:g} over {seconds // 60} min",
                knative_burn_rate_query(namespace, goal, rate, f"{seconds // 60}m"),
                duration="0s",
            )
            for seconds in (window.long_window_s, window.short_window_s)
        )
        specs.append(
            AlertSpec(
                f"availability-burn-{window.name}",
                f"{service_name}: availability error budget burning ({window.name})",
                window.severity,
                f"5xx responses are spending {window.budget_share:.0%} of the {period_days}-day "
                f"error budget (goal {goal:.2%}) in {window.long_window_s // 3600} h.\n\nCheck first: "
                "pod restarts / OOM kills, a new revision (roll back), the service's error log lines.",
                conditions,
                combiner="AND",
            )
        )
    return specs
