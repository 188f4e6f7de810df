"""Compose the stack: settings → APIs → image → identity → model service → outputs.

The model service runs on Cloud Run, or (`platform: knative`) on Knative Serving in a GKE cluster
the stack creates; both render the same ModelServiceSpec and export the same outputs.
"""

from pathlib import Path

import pulumi

from infra.cloud_run import CloudRunModelService, CloudRunModelServiceArgs
from infra.components.monitoring import ServiceMonitoring
from infra.gke import GkeCluster, cluster_args
from infra.identity import RuntimeIdentity, RuntimeIdentityArgs
from infra.image import ModelImage, ModelImageArgs
from infra.knative import (
    KnativeInstall,
    KnativeModelService,
    install_args,
    knative_curl_example,
    service_args,
)
from infra.plan_monitoring import monitoring_apis, monitoring_args
from infra.project_services import ProjectServices, ProjectServicesArgs
from infra.registry import ArtifactRepository, ArtifactRepositoryArgs
from infra.settings import INGRESS, load_settings
from infra.spec import curl_example, image_build_args, model_service_spec

ROOT = Path(__file__).resolve().parent
PLATFORM_APIS = {
    "cloudrun": ["run.googleapis.com"],
    "knative": ["container.googleapis.com", "compute.googleapis.com"],
}

settings = load_settings()
name = settings.service.name
builds_image = not settings.image.prebuilt

apis = ProjectServices(
    "apis",
    ProjectServicesArgs(
        project=settings.project,
        apis=PLATFORM_APIS[settings.platform]
        + ["iam.googleapis.com"]
        + (["artifactregistry.googleapis.com"] if builds_image else [])
        + (["cloudbuild.googleapis.com"] if builds_image and settings.image.builder == "cloudbuild" else [])
        + monitoring_apis(settings),
    ),
)
needs_apis = pulumi.ResourceOptions(depends_on=apis.resources)

repository_url = ""
if builds_image:
    repository = ArtifactRepository(
        "images",
        ArtifactRepositoryArgs(
            project=settings.project,
            location=settings.region,
            repository_id=f"{name}-images",
            keep_versions=settings.image.keep_versions,
            labels=settings.labels,
        ),
        opts=needs_apis,
    )
    repository_url = repository.url

image = ModelImage(
    "model-image",
    ModelImageArgs(
        project=settings.project,
        region=settings.region,
        repository_url=repository_url,
        image_name=name,
        root=ROOT,
        context="service",
        dockerfile="service/Dockerfile",
        build_args=image_build_args(settings),
        builder=settings.image.builder,
        prebuilt=settings.image.prebuilt,
    ),
    opts=needs_apis,
)

identity = RuntimeIdentity(
    "runtime",
    RuntimeIdentityArgs(
        project=settings.project,
        account_id=f"{name[:22].rstrip('-')}-runtime",
        display_name=f"{name} model service runtime",
    ),
    opts=needs_apis,
)

spec = model_service_spec(settings, image.ref)
public = settings.access.public
kubernetes_provider = None
if settings.platform == "knative":
    gke = GkeCluster("gke", cluster_args(settings), opts=needs_apis)
    kubernetes_provider = gke.provider
    knative = KnativeInstall("knative", install_args(settings, gke.provider), opts=needs_apis)
    service = KnativeModelService(
        name,
        service_args(
            settings,
            spec,
            provider=gke.provider,
            identity_email=identity.email,
            identity_name=identity.account.name,
            workload_pool=gke.workload_pool,
        ),
        opts=pulumi.ResourceOptions(depends_on=[*apis.resources, *knative.resources]),
    )
    curl = service.url.apply(lambda url: knative_curl_example(url, public, settings.knative.namespace))
    pulumi.export("ingressIp", knative.ingress_ip)
    pulumi.export("getCredentials", gke.get_credentials)
else:
    service = CloudRunModelService(
        name,
        CloudRunModelServiceArgs(
            spec=spec,
            project=settings.project,
            region=settings.region,
            service_account=identity.email,
            ingress=INGRESS[settings.access.ingress],
            invokers=(["allUsers"] if public else []) + list(settings.access.invokers),
            deletion_protection=settings.deletion_protection,
            # Who may call it, as the stack intends; the policy pack holds IAM grants against this.
            labels={**settings.labels, "access": "public" if public else "private"},
        ),
        opts=needs_apis,
    )
    curl = service.url.apply(lambda url: curl_example(url, public))

if settings.monitoring.enabled:
    ServiceMonitoring(
        f"{name}-monitoring",
        monitoring_args(
            settings,
            spec,
            url=service.url,
            kubernetes_provider=gke.provider if settings.platform == "knative" else None,
        ),
        opts=pulumi.ResourceOptions(depends_on=[*apis.resources, service]),
    )

pulumi.export("url", service.url)
pulumi.export("image", image.ref)
pulumi.export("serviceAccount", identity.email)
pulumi.export("curl", curl)
