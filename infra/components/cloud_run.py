"""The model service on Cloud Run (v2 API), and who may invoke it."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from infra import limits, scaling
from infra.components import child_options, type_token
from infra.components.rollout import content_revision, rollout_phase, service_outputs
from infra.rollout.traffic import CANDIDATE_TAG, RolloutArgs, cloud_run_traffic, tag_url
from infra.spec import CONTAINER_NAME, ModelServiceSpec, Probe
from service.region import REGION_ENV

run = gcp.cloudrunv2
INVOKER_ROLE = "roles/run.invoker"


@dataclass(frozen=True)
class CloudRunModelServiceArgs:
    spec: ModelServiceSpec
    project: pulumi.Input[str]
    region: pulumi.Input[str]
    service_account: pulumi.Input[str]  # email of the runtime identity
    ingress: str  # Cloud Run enum, e.g. INGRESS_TRAFFIC_ALL
    invokers: Sequence[str]  # IAM members granted roles/run.invoker ("allUsers" when public)
    deletion_protection: bool
    labels: dict[str, str] = field(default_factory=dict)
    # Public without an allUsers grant: Cloud Run skips the invoker check (the way to run a public
    # service where domain-restricted sharing refuses allUsers).
    invoker_iam_disabled: bool = False
    rollout: RolloutArgs = field(default_factory=RolloutArgs)
    # Service-level manual scaling: exactly this many instances, no autoscaler; 0 leaves Cloud
    # Run's automatic scaling (nothing rendered).
    manual_instances: int = 0
    # Behind the front door: the run.app URL is switched off, so no client goes around it.
    default_uri_disabled: bool = False


def service_scaling(manual_instances: int) -> run.ServiceScalingArgs | None:
    """Service-level scaling: only with manual scaling (unset, Cloud Run's automatic holds)."""
    if not manual_instances:
        return None
    return run.ServiceScalingArgs(
        scaling_mode=scaling.SCALING_MODES["manual"], manual_instance_count=manual_instances
    )


def resource_limits(spec: ModelServiceSpec) -> dict[str, str]:
    resources = {"cpu": spec.cpu, "memory": spec.memory}
    if spec.gpu:
        resources[limits.GPU_RESOURCE] = "1"
    return resources


def _http_probe(probe: Probe, port: int, args_type, http_type):
    return args_type(
        http_get=http_type(path=probe.path, port=port),
        initial_delay_seconds=probe.initial_delay_seconds,
        period_seconds=probe.period_seconds,
        timeout_seconds=probe.timeout_seconds,
        failure_threshold=probe.failure_threshold,
    )


def readiness_probe_args(spec: ModelServiceSpec) -> run.ServiceTemplateContainerReadinessProbeArgs:
    """Cloud Run stops sending requests to an instance while this fails (it never restarts it),
    and service health counts a region healthy from it: the front door fails over on it."""
    probe = spec.readiness_probe
    return run.ServiceTemplateContainerReadinessProbeArgs(
        http_get=run.ServiceTemplateContainerReadinessProbeHttpGetArgs(path=probe.path, port=spec.port),
        period_seconds=probe.period_seconds,
        timeout_seconds=probe.timeout_seconds,
        failure_threshold=probe.failure_threshold,
    )


def template_args(
    spec: ModelServiceSpec,
    service_account: pulumi.Input[str],
    revision: pulumi.Input[str] | None = None,
    region: pulumi.Input[str] | None = None,
) -> run.ServiceTemplateArgs:
    """The revision template: everything that, when changed, rolls out a new revision (named
    `revision`: `content_revision` of these same inputs).

    `region` goes into the container's env (REGION_ENV) and comes back on every response as
    X-Instance-Region, so a load test through the front door sees which region answered. Cloud Run
    sets no such variable itself (service/region.py)."""
    env = [*spec.env, (REGION_ENV, region)] if region is not None else list(spec.env)
    container = run.ServiceTemplateContainerArgs(
        name=CONTAINER_NAME,
        image=spec.image,
        ports=run.ServiceTemplateContainerPortsArgs(container_port=spec.port, name="http1"),
        envs=[run.ServiceTemplateContainerEnvArgs(name=k, value=v) for k, v in env],
        resources=run.ServiceTemplateContainerResourcesArgs(
            limits=resource_limits(spec),
            # Always explicit: pulumi-gcp defaults cpu_idle to true only while `resources` is
            # unset, so leaving it out here would silently switch to instance-based billing.
            cpu_idle=not spec.cpu_always_allocated,
            startup_cpu_boost=spec.startup_cpu_boost,
        ),
        startup_probe=_http_probe(
            spec.startup_probe,
            spec.port,
            run.ServiceTemplateContainerStartupProbeArgs,
            run.ServiceTemplateContainerStartupProbeHttpGetArgs,
        ),
        liveness_probe=_http_probe(
            spec.liveness_probe,
            spec.port,
            run.ServiceTemplateContainerLivenessProbeArgs,
            run.ServiceTemplateContainerLivenessProbeHttpGetArgs,
        ),
        readiness_probe=readiness_probe_args(spec),
    )
    return run.ServiceTemplateArgs(
        revision=revision,
        containers=[container],
        service_account=service_account,
        max_instance_request_concurrency=spec.concurrency,
        timeout=f"{spec.timeout_seconds}s",
        execution_environment=f"EXECUTION_ENVIRONMENT_{spec.execution_environment.upper()}",
        scaling=run.ServiceTemplateScalingArgs(
            min_instance_count=spec.min_instances,
            max_instance_count=spec.max_instances,
        ),
        node_selector=run.ServiceTemplateNodeSelectorArgs(accelerator=spec.gpu) if spec.gpu else None,
        # Always explicit with a GPU: Cloud Run's own default is redundancy on, which draws on a
        # quota of its own that a fresh project lacks (docs/gpu.md).
        gpu_zonal_redundancy_disabled=(not spec.gpu_zonal_redundancy) if spec.gpu else None,
    )


def invoker_resource_name(name: str, member: str) -> str:
    """A stable logical name per member, so reordering `invokers` replaces nothing."""
    slug = re.sub(r"[^a-z0-9]+", "-", member.lower()).strip("-")[:40]
    return f"{name}-invoker-{slug}-{hashlib.sha256(member.encode()).hexdigest()[:6]}"


class CloudRunModelService(pulumi.ComponentResource):
    service: run.Service
    url: pulumi.Output[str]
    service_name: pulumi.Output[str]
    latest_revision: pulumi.Output[str]
    new_revision: pulumi.Output[str]  # the revision the template makes
    serving_revision: pulumi.Output[str]
    candidate_revision: pulumi.Output[str]
    candidate_percent: pulumi.Output[int]
    previous_revision: pulumi.Output[str]
    candidate_url: pulumi.Output[str]

    def __init__(self, name: str, args: CloudRunModelServiceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(type_token("CloudRunModelService"), name, None, opts)
        child = child_options(self, opts)
        self.new_revision = content_revision(
            args.spec,
            platform="cloudrun",
            service_account=args.service_account,
            # The spec always held a readiness probe, but Cloud Run templates carry it only since
            # readiness probes went GA: a new template needs a new revision name (Cloud Run refuses
            # to reuse one), so the fact is hashed too.
            readiness_probe=True,
            # The region variable's name, not its value: each region's template differs only by
            # the value, and one revision name across regions is what a staged rollout's
            # servingRevision points at in all of them. Hashing the name still gives templates
            # that first carry it a new revision name, as Cloud Run requires.
            region_env=REGION_ENV,
        )
        phase = rollout_phase(args.rollout, self.new_revision)
        self.service = run.Service(
            f"{name}-service",
            name=args.spec.name,
            project=args.project,
            location=args.region,
            description="Extractive question answering (managed by Pulumi)",
            ingress=args.ingress,
            # Explicit either way, so a review sees the bypass; the `access` label says whether it
            # is intended (the policy pack holds the two against each other).
            invoker_iam_disabled=args.invoker_iam_disabled,
            deletion_protection=args.deletion_protection,
            # Only where it is on: an unset field keeps a single-region stack's inputs as they were.
            default_uri_disabled=True if args.default_uri_disabled else None,
            labels=args.labels,
            template=template_args(args.spec, args.service_account, self.new_revision, args.region),
            scaling=service_scaling(args.manual_instances),
            traffics=phase.apply(lambda p: cloud_run_traffic(p.targets)),
            opts=child,
        )
        for member in args.invokers:
            run.ServiceIamMember(
                invoker_resource_name(name, member),
                project=args.project,
                location=args.region,
                name=self.service.name,
                role=INVOKER_ROLE,
                member=member,
                opts=child,
            )
        self.url = self.service.uri
        self.service_name = self.service.name
        self.latest_revision = self.service.latest_ready_revision
        self.serving_revision = phase.apply(lambda p: p.serving)
        self.candidate_revision = phase.apply(lambda p: p.candidate)
        self.candidate_percent = phase.apply(lambda p: p.candidate_percent)
        self.previous_revision = phase.apply(lambda p: p.previous)
        self.candidate_url = self.service.traffic_statuses.apply(lambda s: tag_url(s, CANDIDATE_TAG))
        self.register_outputs(service_outputs(self))
