"""ServiceMonitoring: notification channels, SLOs + burn-rate alerts, alert policies, uptime
check, logs-based metrics, dashboard and budget for one model service, declared with it.

Cloud Run gets Cloud Monitoring SLOs on a basic CLOUD_RUN service; Knative gets a PodMonitoring
and PromQL alerts (burn-rate alerts included) over the service's own /metrics. The pure
builders live beside this module; here they only become resources.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from infra.components import child_options, type_token
from infra.components.monitoring import (
    alerts,
    budget,
    catalog,
    dashboard,
    log_metrics,
    probes,
    promql_alerts,
    slo,
)
from infra.components.monitoring.front_door_alerts import front_door_alerts

INVOKER_ROLE = "roles/run.invoker"


@dataclass(frozen=True)
class ServiceMonitoringArgs:
    project: str
    region: str
    service_name: str  # the Cloud Run service, or the Knative Service
    platform: str  # "cloudrun" | "knative"
    public: bool
    max_instances: int
    model_load_seconds: int
    alert_emails: tuple[str, ...]
    availability_goal: float
    latency_goal: float
    latency_threshold_ms: int
    slo_period_days: int
    billing_account: str = ""  # "" : no budget
    monthly_budget: float = 0.0
    url: pulumi.Input[str] | None = None  # the service URL (Knative's public uptime check)
    namespace: str = ""  # Knative
    port: int = 8080  # the container port the PodMonitoring scrapes (Knative)
    kubernetes_provider: pulumi.ProviderResource | None = None
    labels: dict[str, str] = field(default_factory=dict)
    # Several regions (docs/multi-region.md): SLOs per region; the front door's host and URL map.
    regions: tuple[str, ...] = ()
    front_door_host: str = ""
    front_door_url_map: str = ""  # "": no front door
    front_door_backend: str = ""  # the users' backend service (the alerts leave the gate's out)


def channel_name(name: str, email: str) -> str:
    """A stable logical name per address, so reordering `alertEmails` replaces nothing."""
    slug = re.sub(r"[^a-z0-9]+", "-", email.lower()).strip("-")[:40]
    return f"{name}-email-{slug}-{hashlib.sha256(email.encode()).hexdigest()[:6]}"


class ServiceMonitoring(pulumi.ComponentResource):
    channels: list[pulumi.Output[str]]
    dashboard_id: pulumi.Output[str]
    alert_policies: list[gcp.monitoring.AlertPolicy]

    def __init__(self, name: str, args: ServiceMonitoringArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(type_token("ServiceMonitoring"), name, None, opts)
        self._name, self._args, self._opts = name, args, opts
        self._number: str | None = None
        self.alert_policies = []
        self.channels = [
            gcp.monitoring.NotificationChannel(
                channel_name(name, email),
                project=args.project,
                type="email",
                display_name=f"{args.service_name} alerts: {email}",
                labels={"email_address": email},
                user_labels=args.labels,
                opts=self._child(),
            ).name
            for email in args.alert_emails
        ]
        widgets = self._knative() if args.platform == "knative" else self._cloud_run()
        board = gcp.monitoring.Dashboard(
            f"{name}-dashboard",
            project=args.project,
            dashboard_json=dashboard.dashboard_json(f"{args.service_name} (QA service)", widgets),
            opts=self._child(*self._log_metrics),
        )
        self.dashboard_id = board.id
        if args.billing_account and args.monthly_budget > 0:
            gcp.billing.Budget(
                f"{name}-budget",
                **budget.budget_args(
                    args.billing_account,
                    pulumi.Output.concat("projects/", self._project_number()),
                    args.monthly_budget,
                    self.channels,
                    f"{args.service_name} monthly budget",
                ),
                opts=self._child(),
            )
        self.register_outputs({"channels": self.channels, "dashboard_id": self.dashboard_id})

    def _child(self, *depends_on: pulumi.Resource) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions.merge(
            child_options(self, self._opts), pulumi.ResourceOptions(depends_on=list(depends_on))
        )

    def _policy(self, spec: alerts.AlertSpec, conditions: Any = None) -> gcp.monitoring.AlertPolicy:
        inputs = spec.args(self.channels, self._args.labels)
        if conditions is not None:
            inputs["conditions"] = conditions
        policy = gcp.monitoring.AlertPolicy(
            f"{self._name}-alert-{spec.key}", project=self._args.project, **inputs, opts=self._child()
        )
        self.alert_policies.append(policy)
        return policy

    # --- Cloud Run ---------------------------------------------------------------------------
    def _project_number(self) -> str:
        """Looked up only when needed (budget filter, the uptime check's agent): an invoke whose
        result nobody awaits is still pending when the program ends."""
        if self._number is None:
            self._number = gcp.organizations.get_project(project_id=self._args.project).number
        return self._number

    def _cloud_run(self) -> list[dict[str, Any]]:
        args, name = self._args, self._name
        for region in args.regions or (args.region,):
            # gcp:region's keep the names a single-region stack has; each other region adds its own.
            self._slos(region, "" if region == args.region else f"-{region}")
        for spec in alerts.cloud_run_alerts(
            args.service_name, max_instances=args.max_instances, model_load_seconds=args.model_load_seconds
        ):
            self._policy(spec)
        for spec in front_door_alerts(
            args.service_name, args.front_door_url_map, args.front_door_backend, args.latency_threshold_ms
        ):
            self._policy(spec)
        if args.front_door_host:
            if args.public:  # IAP answers a checker with a sign-in redirect: nothing to check there
                self._uptime_url(args.front_door_host)
        else:
            self._uptime_cloud_run()
        self._log_metrics = [
            gcp.logging.Metric(
                f"{name}-{key}", project=args.project, **builder(args.service_name), opts=self._child()
            )
            for key, builder in (
                ("cold-starts", log_metrics.cold_start_metric_args),
                ("queue-time", log_metrics.queue_time_metric_args),
            )
        ]
        self._log_metrics += [
            gcp.logging.Metric(
                f"{name}-startup-{phase}",
                project=args.project,
                **log_metrics.startup_phase_metric_args(args.service_name, phase),
                opts=self._child(),
            )
            for phase in log_metrics.STARTUP_PHASES
        ]
        return dashboard.cloud_run_widgets(args.service_name)

    def _slos(self, region: str, suffix: str) -> None:
        """The region's service SLOs and their burn-rate alerts."""
        args, name = self._args, f"{self._name}{suffix}"
        where = f" ({region})" if suffix else ""
        service = gcp.monitoring.GenericService(
            f"{name}-slo-service",
            project=args.project,
            service_id=f"{args.service_name}{suffix}",
            user_labels=args.labels,
            **slo.generic_service_args(args.service_name, region, name_region=bool(suffix)),
            opts=self._child(),
        )
        specs = (
            slo.SloSpec("availability", args.availability_goal, args.slo_period_days),
            slo.SloSpec("latency", args.latency_goal, args.slo_period_days, args.latency_threshold_ms),
        )
        for spec in specs:
            objective = gcp.monitoring.Slo(
                f"{name}-slo-{spec.key}",
                project=args.project,
                service=service.service_id,
                user_labels=args.labels,
                **slo.slo_args(spec),
                opts=self._child(),
            )
            for window in slo.BURN_RATE_WINDOWS:
                alert = alerts.AlertSpec(
                    f"{spec.key}-burn-{window.name}{suffix}",
                    f"{args.service_name}{where}: {spec.key} error budget burning ({window.name})",
                    window.severity,
                    slo.burn_rate_documentation(spec, window, args.service_name),
                    (),
                    combiner="AND",
                )
                conditions = objective.name.apply(
                    lambda slo_name, w=window: slo.burn_rate_conditions(slo_name, w, args.slo_period_days)
                )
                self._policy(alert, conditions)

    def _uptime_cloud_run(self) -> None:
        args, name = self._args, self._name
        depends: list[pulumi.Resource] = []
        if not args.public:
            # The check's OIDC token is the Monitoring service agent's: let it invoke /health.
            depends.append(
                gcp.cloudrunv2.ServiceIamMember(
                    f"{name}-uptime-invoker",
                    project=args.project,
                    location=args.region,
                    name=args.service_name,
                    role=INVOKER_ROLE,
                    member=probes.monitoring_agent(self._project_number()),
                    opts=self._child(),
                )
            )
        check = gcp.monitoring.UptimeCheckConfig(
            f"{name}-uptime",
            project=args.project,
            user_labels=args.labels,
            **probes.uptime_check_args(
                args.service_name,
                probes.cloud_run_resource(args.service_name, args.project, args.region),
                authenticated=not args.public,
            ),
            opts=self._child(*depends),
        )
        self._uptime_alert(check, catalog.CLOUD_RUN_REVISION)

    def _uptime_url(self, host: str) -> None:
        """The front door: the check goes to the global URL, as a client's request does."""
        args = self._args
        check = gcp.monitoring.UptimeCheckConfig(
            f"{self._name}-uptime",
            project=args.project,
            user_labels=args.labels,
            **{
                **probes.uptime_check_args(args.service_name, {}, authenticated=False),
                "monitored_resource": probes.url_resource(host, args.project),
            },
            opts=self._child(),
        )
        self._uptime_alert(check, catalog.UPTIME_URL)

    def _uptime_alert(self, check: gcp.monitoring.UptimeCheckConfig, resource_type: str) -> None:
        conditions = check.uptime_check_id.apply(
            lambda check_id: alerts.uptime_conditions(check_id, resource_type)
        )
        self._policy(alerts.uptime_alert(self._args.service_name), conditions)

    # --- Knative -----------------------------------------------------------------------------
    def _knative(self) -> list[dict[str, Any]]:
        args, name = self._args, self._name
        self._log_metrics = []
        manifest = probes.pod_monitoring_manifest(args.service_name, args.namespace, args.port, args.labels)
        k8s.apiextensions.CustomResource(
            f"{name}-pod-monitoring",
            api_version=manifest["apiVersion"],
            kind=manifest["kind"],
            metadata=manifest["metadata"],
            spec=manifest["spec"],
            opts=pulumi.ResourceOptions.merge(
                self._child(), pulumi.ResourceOptions(provider=args.kubernetes_provider)
            ),
        )
        for spec in promql_alerts.knative_burn_rate_alerts(
            args.service_name, args.namespace, args.availability_goal, args.slo_period_days
        ):
            self._policy(spec)
        for spec in promql_alerts.knative_alerts(args.service_name, args.namespace):
            self._policy(spec)
        if args.public and args.url is not None:
            self._uptime_knative(pulumi.Output.from_input(args.url))
        return dashboard.knative_widgets(args.namespace)

    def _uptime_knative(self, url: pulumi.Output[str]) -> None:
        """A public Knative service answers on its domain through the ingress; a cluster-local
        one is not reachable from the checkers at all (the dashboard and alerts still cover it)."""
        args = self._args
        parsed = url.apply(lambda u: urlparse(u or ""))
        check = gcp.monitoring.UptimeCheckConfig(
            f"{self._name}-uptime",
            project=args.project,
            user_labels=args.labels,
            **{
                **probes.uptime_check_args(args.service_name, {}, authenticated=False),
                "monitored_resource": parsed.apply(
                    lambda p: probes.url_resource(p.hostname or "", args.project)
                ),
                "http_check": parsed.apply(
                    lambda p: probes.uptime_check_args(
                        args.service_name, {}, authenticated=False, https=p.scheme == "https"
                    )["http_check"]
                ),
            },
            opts=self._child(),
        )
        self._uptime_alert(check, catalog.UPTIME_URL)
