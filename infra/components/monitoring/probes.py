"""The uptime check on /health and, on Knative, the PodMonitoring that scrapes /metrics.

Cloud Run: the check targets the `cloud_run_revision` monitored resource (no URL to keep in
step), over HTTPS. A private service gets an OIDC token of the Monitoring service agent
(`serviceAgentAuthentication`), which therefore needs roles/run.invoker on the service.
Knative: GKE's managed Prometheus (on in every cluster this stack makes) scrapes the pods a
PodMonitoring selects; the model's namespace NetworkPolicy lets its collectors in.
"""

from __future__ import annotations

from typing import Any

from infra.components.monitoring import catalog
from service import routes

UPTIME_PERIOD = "60s"
# GKE managed Prometheus: its collectors run in this namespace.
GMP_NAMESPACE = "gmp-system"
POD_MONITORING_API = "monitoring.googleapis.com/v1"
SCRAPE_INTERVAL = "30s"
# Knative's queue-proxy sidecar serves its own request metrics (queue depth) on this port.
QUEUE_PROXY_METRICS_PORT = 9091
# Knative labels every pod of a Service's revisions with the Service's name.
KNATIVE_SERVICE_LABEL = "serving.knative.dev/service"


def monitoring_agent(project_number: str) -> str:
    """The Monitoring service agent, whose OIDC token an authenticated uptime check sends."""
    return f"serviceAccount:service-{project_number}@gcp-sa-monitoring-notification.iam.gserviceaccount.com"


def cloud_run_resource(service_name: str, project: str, region: str) -> dict[str, Any]:
    return {
        "type": catalog.CLOUD_RUN_REVISION,
        "labels": {"project_id": project, "service_name": service_name, "location": region},
    }


def url_resource(host: str, project: str) -> dict[str, Any]:
    return {"type": catalog.UPTIME_URL, "labels": {"project_id": project, "host": host}}


def uptime_check_args(
    display_name: str, resource: dict[str, Any], *, authenticated: bool, https: bool = True
) -> dict[str, Any]:
    http_check: dict[str, Any] = {
        "path": routes.HEALTH,
        "port": 443 if https else 80,
        "use_ssl": https,
        "validate_ssl": https,
        "request_method": "GET",
        "accepted_response_status_codes": [{"status_class": "STATUS_CLASS_2XX"}],
    }
    if authenticated:
        http_check["service_agent_authentication"] = {"type": "OIDC_TOKEN"}
    return {
        "display_name": f"{display_name} {routes.HEALTH}",
        "period": UPTIME_PERIOD,
        "timeout": "10s",
        "http_check": http_check,
        "monitored_resource": resource,
        # /health answers {"status": "ok", ...}: a 200 from something else is not the service.
        "content_matchers": [{"content": '"status"', "matcher": "CONTAINS_STRING"}],
    }


def pod_monitoring_manifest(
    service_name: str, namespace: str, port: int, labels: dict[str, str]
) -> dict[str, Any]:
    return {
        "apiVersion": POD_MONITORING_API,
        "kind": "PodMonitoring",
        "metadata": {"name": f"{service_name}-metrics", "namespace": namespace, "labels": dict(labels)},
        "spec": {
            "selector": {"matchLabels": {KNATIVE_SERVICE_LABEL: service_name}},
            "endpoints": [
                {"port": p, "path": routes.METRICS, "interval": SCRAPE_INTERVAL} for p in scrape_ports(port)
            ],
        },
    }


def scrape_ports(port: int) -> tuple[int, ...]:
    """The service's own /metrics, and the queue-proxy's."""
    return (port, QUEUE_PROXY_METRICS_PORT)


def scrape_ingress_rule(port: int) -> dict[str, Any]:
    """A NetworkPolicy ingress rule that lets managed Prometheus reach the metrics ports only."""
    return {
        "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": GMP_NAMESPACE}}}],
        "ports": [{"protocol": "TCP", "port": p} for p in scrape_ports(port)],
    }
