"""Settings → ServiceMonitoringArgs (joins infra/plan.py, the one settings → args map)."""

from __future__ import annotations

import pulumi

from infra.components.monitoring import ServiceMonitoringArgs
from infra.components.monitoring.budget import BUDGET_API
from infra.settings import Settings
from infra.spec import ModelServiceSpec

MONITORING_APIS = ("monitoring.googleapis.com", "logging.googleapis.com")


def monitoring_apis(settings: Settings) -> list[str]:
    if not settings.monitoring.enabled:
        return []
    return [*MONITORING_APIS, *([BUDGET_API] if settings.monitoring.budget else [])]


def monitoring_args(
    settings: Settings,
    spec: ModelServiceSpec,
    *,
    url: pulumi.Input[str] | None = None,
    kubernetes_provider: pulumi.ProviderResource | None = None,
) -> ServiceMonitoringArgs:
    monitoring, service = settings.monitoring, settings.service
    return ServiceMonitoringArgs(
        project=settings.project,
        region=settings.region,
        service_name=spec.name,
        platform=settings.platform,
        public=settings.access.public,
        max_instances=service.max_instances,
        model_load_seconds=service.model_load_seconds,
        alert_emails=monitoring.alert_emails,
        availability_goal=monitoring.availability_goal,
        latency_goal=monitoring.latency_goal,
        latency_threshold_ms=monitoring.latency_threshold_ms,
        slo_period_days=monitoring.period_days,
        billing_account=monitoring.billing_account if monitoring.budget else "",
        monthly_budget=float(monitoring.monthly_budget),
        url=url,
        namespace=settings.knative.namespace,
        port=spec.port,
        kubernetes_provider=kubernetes_provider,
        labels=settings.labels,
    )
