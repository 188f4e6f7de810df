"""Settings → every component's Args: the one map from a stack's settings to its resources.

Names, labels, APIs, invokers, the `access` label, sizes and build args are decided here and
nowhere else; the components only declare what their Args say. Outputs of one component that
another needs (the image digest, the cluster's provider) are passed in by `__main__.py`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from infra.components.cloud_run import CloudRunModelServiceArgs
from infra.components.gke import GkeClusterArgs
from infra.components.identity import RuntimeIdentityArgs
from infra.components.image import ModelImageArgs
from infra.components.knative import KnativeInstallArgs, KnativeModelServiceArgs
from infra.components.knative.manifests import config_autoscaler, config_defaults, config_features
from infra.components.monitoring.budget import BUDGET_API
from infra.components.monitoring.probes import scrape_ingress_rule
from infra.components.project_services import ProjectServicesArgs
from infra.components.registry import ArtifactRepositoryArgs
from infra.ingresses import KNATIVE_INGRESSES
from infra.limits import GPU_TYPES
from infra.plan_monitoring import monitoring_args  # noqa: F401 (part of the map, kept apart for size)
from infra.plan_regions import FRONT_DOOR_INGRESS, front_door_apis
from infra.rollout.traffic import RolloutArgs
from infra.settings import INGRESS, Settings
from infra.spec import (
    TORCH_INDEX_CPU,
    TORCH_INDEX_CUDA,
    ModelServiceSpec,
    liveness_probe,
    readiness_probe,
    service_env,
    startup_probe,
)

ROOT = Path(__file__).resolve().parent.parent  # the project directory Pulumi runs the program in
PLATFORM_APIS = {
    "cloudrun": ["run.googleapis.com"],
    "knative": ["container.googleapis.com", "compute.googleapis.com"],
}
MONITORING_APIS = ["monitoring.googleapis.com", "logging.googleapis.com"]
# GCP limits on the names derived from the service name (service accounts 6-30 characters,
# GKE clusters at most 40), with room for the suffix each one gets.
ACCOUNT_ID_PREFIX_CHARS = 22
CLUSTER_NAME_PREFIX_CHARS = 32


def project_services_args(settings: Settings) -> ProjectServicesArgs:
    return ProjectServicesArgs(project=settings.project, apis=platform_apis(settings))


def platform_apis(settings: Settings) -> list[str]:
    builds_image = not settings.image.prebuilt
    return (
        PLATFORM_APIS[settings.platform]
        + front_door_apis(settings)
        + ["iam.googleapis.com"]
        + (["artifactregistry.googleapis.com"] if builds_image else [])
        + (["cloudbuild.googleapis.com"] if builds_image and settings.image.builder == "cloudbuild" else [])
        + (MONITORING_APIS if settings.monitoring.enabled else [])
        + ([BUDGET_API] if settings.monitoring.budget else [])
    )


def service_labels(settings: Settings) -> dict[str, str]:
    """The model service's labels: who may call it, as the stack intends (the policy pack holds
    IAM grants against this)."""
    return {**settings.labels, "access": "public" if settings.access.public else "private"}


def invokers(settings: Settings) -> list[str]:
    """Who gets roles/run.invoker: allUsers opens a public service, unless the stack opens it by
    turning the invoker check off instead (`publicAccess: invokerIamDisabled`)."""
    grant_all = settings.access.public and not settings.access.invoker_iam_disabled
    if settings.front_door.iap:
        return []  # the invokers pass IAP at the front door; IAP's own identity calls the services
    return (["allUsers"] if grant_all else []) + list(settings.access.invokers)


def identity_args(settings: Settings) -> RuntimeIdentityArgs:
    name = settings.service.name
    return RuntimeIdentityArgs(
        project=settings.project,
        account_id=f"{name[:ACCOUNT_ID_PREFIX_CHARS].rstrip('-')}-runtime",
        display_name=f"{name} model service runtime",
    )


def repository_args(settings: Settings) -> ArtifactRepositoryArgs:
    return ArtifactRepositoryArgs(
        project=settings.project,
        location=settings.region,
        repository_id=f"{settings.service.name}-images",
        keep_versions=settings.image.keep_versions,
        labels=settings.labels,
    )


def image_build_args(settings: Settings) -> dict[str, str]:
    """Build args of service/Dockerfile (and infra/cloudbuild.yaml): what gets baked in."""
    return {
        "MODEL_ID": settings.model.id,
        "MODEL_REVISION": settings.model.revision,
        "RUNTIME": settings.model.runtime,
        "PRECISION": settings.model.precision,
        # Always passed: Cloud Build would substitute an unset variable with "" (ALLOW_LOOSE).
        "TORCH_INDEX": TORCH_INDEX_CUDA if settings.service.gpu else TORCH_INDEX_CPU,
        # int8 only, so that the margin of a stack that bakes fp32 is not part of its image (a
        # change would rebuild it for nothing); unset, the Dockerfile passes the bake's default.
        **(
            {"INT8_ACCURACY_MARGIN": f"{settings.model.int8_accuracy_margin:g}"}
            if settings.model.precision == "int8"
            else {}
        ),
    }


def image_args(settings: Settings, repository_url: pulumi.Input[str]) -> ModelImageArgs:
    return ModelImageArgs(
        project=settings.project,
        region=settings.region,
        repository_url=repository_url,
        image_name=settings.service.name,
        root=ROOT,
        context="service",
        dockerfile="service/Dockerfile",
        build_args=image_build_args(settings),
        builder=settings.image.builder,
        prebuilt=settings.image.prebuilt,
    )


def model_service_spec(settings: Settings, image: Any) -> ModelServiceSpec:
    """The platform-neutral service both Cloud Run and Knative render (`image` may be an Output)."""
    service, model = settings.service, settings.model
    return ModelServiceSpec(
        name=service.name,
        image=image,
        cpu=service.cpu.text,
        memory=service.memory,
        concurrency=service.concurrency,
        min_instances=service.min_instances,
        max_instances=service.max_instances,
        timeout_seconds=service.timeout_seconds,
        env=service_env(
            model_id=model.id,
            model_revision=model.revision,
            concurrency=service.concurrency,
            num_threads=service.cpu.whole,
            max_context_chars=service.max_context_chars,
            log_level=service.log_level,
            batching=service.batching,
            batch_max_wait_ms=service.batch_max_wait_ms,
            max_batch_windows=service.max_batch_windows,
        ),
        startup_probe=startup_probe(service.model_load_seconds),
        liveness_probe=liveness_probe(),
        readiness_probe=readiness_probe(),
        startup_cpu_boost=service.startup_cpu_boost,
        cpu_always_allocated=service.cpu_always_allocated,
        execution_environment=service.execution_environment,
        gpu=service.gpu,
        gpu_zonal_redundancy=service.gpu_zonal_redundancy,
    )


def cloud_run_args(
    settings: Settings, spec: ModelServiceSpec, service_account: pulumi.Input[str], region: str = ""
) -> CloudRunModelServiceArgs:
    return CloudRunModelServiceArgs(
        spec=spec,
        project=settings.project,
        region=region or settings.region,
        service_account=service_account,
        ingress=INGRESS[FRONT_DOOR_INGRESS if settings.front_door.enabled else settings.access.ingress],
        invokers=invokers(settings),
        invoker_iam_disabled=settings.access.invoker_iam_disabled,
        deletion_protection=settings.deletion_protection,
        labels=service_labels(settings),
        rollout=rollout_args(settings, region),
        manual_instances=settings.autoscaling.manual_instances,  # 0 unless scalingMode manual
        default_uri_disabled=settings.front_door.enabled,
    )


def rollout_args(settings: Settings, region: str = "") -> RolloutArgs:
    """The phase the stack config describes (either platform), as the service in `region` takes it."""
    rollout = settings.rollout
    return RolloutArgs(
        mode=rollout.mode,
        serving_revision=rollout.serving_revision,
        candidate_percent=rollout.candidate_percent,
        previous_revision=rollout.previous_revision,
        regions=rollout.regions,
        region_index=settings.regions.index(region) if region in settings.regions else 0,
    )


def cluster_args(settings: Settings) -> GkeClusterArgs:
    """The cluster a knative stack asks for."""
    gke = settings.gke
    return GkeClusterArgs(
        project=settings.project,
        region=settings.region,
        location=gke.location,
        cluster_name=f"{settings.service.name[:CLUSTER_NAME_PREFIX_CHARS].rstrip('-')}-cluster",
        release_channel=gke.release_channel,
        machine_type=gke.machine_type,
        min_nodes=gke.min_nodes,
        max_nodes=gke.max_nodes,
        private_nodes=gke.private_nodes,
        master_authorized_networks=gke.master_authorized_networks,
        gpu_machine_type=gke.gpu_machine_type,
        gpu_max_nodes=gke.gpu_max_nodes if settings.service.gpu else 0,
        gpu_type=settings.service.gpu or GPU_TYPES[0],
        deletion_protection=settings.deletion_protection,
        labels=settings.labels,
        monitoring_components=("SYSTEM_COMPONENTS", *(["POD"] if settings.monitoring.enabled else [])),
    )


def install_args(settings: Settings, provider: k8s.Provider) -> KnativeInstallArgs:
    knative, service = settings.knative, settings.service
    return KnativeInstallArgs(
        provider=provider,
        project=settings.project,
        region=settings.region,
        version=knative.version,
        ingress=knative.ingress,
        ingress_class=knative.ingress_class,
        domain=knative.domain,
        magic_dns=knative.magic_dns,
        address_name=f"{service.name}-ingress",
        autoscaler=config_autoscaler(
            knative.initial_scale,
            knative.scale_to_zero_grace_seconds,
            knative.scale_to_zero_pod_retention_seconds,
        ),
        defaults=config_defaults(service.timeout_seconds),
        features=config_features(bool(service.gpu)),
    )


def knative_service_args(
    settings: Settings,
    spec: ModelServiceSpec,
    *,
    provider: k8s.Provider,
    identity_email: pulumi.Input[str],
    identity_name: pulumi.Input[str],
    workload_pool: pulumi.Input[str],
) -> KnativeModelServiceArgs:
    return KnativeModelServiceArgs(
        spec=spec,
        provider=provider,
        namespace=settings.knative.namespace,
        gateway_namespace=KNATIVE_INGRESSES[settings.knative.ingress].gateway_namespace,
        service_account_email=identity_email,
        service_account_name=identity_name,
        workload_pool=workload_pool,
        public=settings.access.public,
        initial_scale=settings.knative.initial_scale,
        target=settings.knative.target,
        autoscaling=settings.autoscaling.knative_annotations,
        labels=service_labels(settings),
        rollout=rollout_args(settings),
        # Managed Prometheus scrapes /metrics for the PodMonitoring (monitoring on).
        extra_ingress=(scrape_ingress_rule(spec.port),) if settings.monitoring.enabled else (),
    )
