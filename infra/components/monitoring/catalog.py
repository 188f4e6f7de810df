"""Every metric the monitoring resources name, with the page that documents it.

Alert filters, SLOs, the dashboard and PromQL queries take their metric names from here, and a
test fails when a filter names one that is not listed: a typo in a metric type is otherwise
accepted by the API and simply never fires.
"""

from __future__ import annotations

from dataclasses import dataclass

from service import metric_names as service_metrics
from service.startup import PHASES

CLOUD_RUN_DOC = "https://cloud.google.com/monitoring/api/metrics_gcp_p_z#gcp-run"
UPTIME_DOC = "https://cloud.google.com/monitoring/uptime-checks#monitoring_uptime_check_config"
LOG_METRIC_DOC = "https://cloud.google.com/logging/docs/logs-based-metrics"
GKE_SYSTEM_DOC = "https://cloud.google.com/monitoring/api/metrics_kubernetes"
KSM_DOC = "https://cloud.google.com/kubernetes-engine/docs/how-to/kube-state-metrics"
KNATIVE_DOC = "https://knative.dev/docs/serving/observability/metrics/serving-metrics/"
SERVICE_DOC = "docs/observability.md#the-services-own-metrics"
LOAD_BALANCING_DOC = "https://cloud.google.com/monitoring/api/metrics_gcp_i_o#gcp-loadbalancing"

CLOUD_RUN_REVISION = "cloud_run_revision"  # the monitored resource of a Cloud Run service
UPTIME_URL = "uptime_url"  # the monitored resource of an uptime check on a host name
HTTPS_LB_RULE = "https_lb_rule"  # the monitored resource of an external Application Load Balancer


@dataclass(frozen=True)
class Metric:
    name: str  # a Cloud Monitoring metric type, or a Prometheus metric name (PromQL)
    doc: str
    what: str


def _cloud_run(suffix: str, what: str) -> Metric:
    return Metric(f"run.googleapis.com/{suffix}", CLOUD_RUN_DOC, what)


REQUEST_COUNT = _cloud_run("request_count", "requests reaching the revision, by response_code(_class)")
REQUEST_LATENCIES = _cloud_run("request_latencies", "request latency distribution (ms)")
INSTANCE_COUNT = _cloud_run("container/instance_count", "container instances, by state (active, idle)")
STARTUP_LATENCIES = _cloud_run("container/startup_latencies", "time to start a new instance (ms)")
MEMORY_UTILIZATIONS = _cloud_run("container/memory/utilizations", "memory used / limit, distribution")
CPU_UTILIZATIONS = _cloud_run("container/cpu/utilizations", "CPU used / allocated, distribution")
LB_REQUEST_COUNT = Metric(
    "loadbalancing.googleapis.com/https/request_count",
    LOAD_BALANCING_DOC,
    "requests the front door served, by response_code_class",
)
LB_TOTAL_LATENCIES = Metric(
    "loadbalancing.googleapis.com/https/total_latencies",
    LOAD_BALANCING_DOC,
    "client-to-last-byte latency at the front door (ms)",
)
UPTIME_CHECK_PASSED = Metric(
    "monitoring.googleapis.com/uptime_check/check_passed", UPTIME_DOC, "one uptime probe passed"
)

# Logs-based metrics this stack creates, from the service's request log (logging.py here).
COLD_START_METRIC_ID = "qa_cold_starts"
QUEUE_TIME_METRIC_ID = "qa_queue_time"
COLD_STARTS = Metric(
    f"logging.googleapis.com/user/{COLD_START_METRIC_ID}", LOG_METRIC_DOC, "first request of each instance"
)
QUEUE_TIME = Metric(
    f"logging.googleapis.com/user/{QUEUE_TIME_METRIC_ID}", LOG_METRIC_DOC, "wait for a model slot (ms)"
)


def startup_phase_metric_id(phase: str) -> str:
    """The logs-based metric of one start-up phase (service/startup.py PHASES)."""
    return f"qa_startup_{phase}"


# One logs-based distribution per start-up phase, in service/startup.py's order.
STARTUP_PHASES = {
    phase: Metric(
        f"logging.googleapis.com/user/{startup_phase_metric_id(phase)}",
        LOG_METRIC_DOC,
        f"seconds a new instance's start waited on {phase}",
    )
    for phase in PHASES
}


# PromQL (GKE managed Prometheus): GKE system metrics, kube-state-metrics, Knative, the service.
GKE_RESTARTS = Metric("kubernetes_io:container_restart_count", GKE_SYSTEM_DOC, "container restarts")
KSM_TERMINATED_REASON = Metric(
    "kube_pod_container_status_last_terminated_reason", KSM_DOC, "why a container last stopped"
)
KSM_RESTARTS = Metric("kube_pod_container_status_restarts_total", KSM_DOC, "container restarts")
KSM_POD_PHASE = Metric("kube_pod_status_phase", KSM_DOC, "pods by phase (Pending, Running, …)")
KNATIVE_QUEUE_DEPTH = Metric(
    "kn_serving_queue_depth", KNATIVE_DOC, "requests queued in the pod's queue-proxy (activator behind it)"
)
SERVICE_REQUESTS = Metric(
    f"{service_metrics.REQUEST_SECONDS}_count", SERVICE_DOC, "requests by route and status code"
)
SERVICE_REQUEST_BUCKETS = Metric(f"{service_metrics.REQUEST_SECONDS}_bucket", SERVICE_DOC, "latency buckets")
SERVICE_QUEUE_BUCKETS = Metric(f"{service_metrics.QUEUE_SECONDS}_bucket", SERVICE_DOC, "queue time buckets")
SERVICE_QUEUE_DEPTH = Metric(service_metrics.QUEUE_DEPTH, SERVICE_DOC, "requests waiting for a model slot")

METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        REQUEST_COUNT,
        REQUEST_LATENCIES,
        INSTANCE_COUNT,
        STARTUP_LATENCIES,
        MEMORY_UTILIZATIONS,
        CPU_UTILIZATIONS,
        UPTIME_CHECK_PASSED,
        LB_REQUEST_COUNT,
        LB_TOTAL_LATENCIES,
        COLD_STARTS,
        QUEUE_TIME,
        GKE_RESTARTS,
        KSM_TERMINATED_REASON,
        KSM_RESTARTS,
        KSM_POD_PHASE,
        KNATIVE_QUEUE_DEPTH,
        SERVICE_REQUESTS,
        SERVICE_REQUEST_BUCKETS,
        SERVICE_QUEUE_BUCKETS,
        SERVICE_QUEUE_DEPTH,
        *STARTUP_PHASES.values(),
    )
}
