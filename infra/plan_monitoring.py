"""Settings → the monitoring's Args: part of the plan (infra/plan.py re-exports it)."""

from __future__ import annotations

import pulumi

from infra.components.monitoring import ServiceMonitoringArgs
from infra.plan_regions import front_door_monitoring
from infra.settings import Settings
from infra.spec import ModelServiceSpec


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
        **front_door_monitoring(settings),
    )
