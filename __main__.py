"""Compose the stack: settings → plan → components → outputs.

The model service runs on Cloud Run, or (`platform: knative`) on Knative Serving in a GKE cluster
the stack creates; both render the same ModelServiceSpec and export the same outputs. What each
component gets is decided in infra/plan.py.
"""

import pulumi

from infra import plan
from infra.cloud_run_regions import declare_cloud_run
from infra.components.gke import GkeCluster
from infra.components.identity import RuntimeIdentity
from infra.components.image import ModelImage
from infra.components.knative import KnativeInstall, KnativeModelService, knative_curl_example
from infra.components.monitoring import ServiceMonitoring
from infra.components.project_services import ProjectServices
from infra.components.registry import ArtifactRepository
from infra.rollout import keys as rollout
from infra.settings import settings_from_pulumi
from infra.spec import curl_example

settings = settings_from_pulumi()
name = settings.service.name
public = settings.access.public

apis = ProjectServices("apis", plan.project_services_args(settings))
needs_apis = pulumi.ResourceOptions(depends_on=apis.resources)

repository_url = ""
if not settings.image.prebuilt:
    repository_url = ArtifactRepository("images", plan.repository_args(settings), opts=needs_apis).url
image = ModelImage("model-image", plan.image_args(settings, repository_url), opts=needs_apis)
identity = RuntimeIdentity("runtime", plan.identity_args(settings), opts=needs_apis)
spec = plan.model_service_spec(settings, image.ref)

kubernetes_provider = None
if settings.platform == "knative":
    gke = GkeCluster("gke", plan.cluster_args(settings), opts=needs_apis)
    kubernetes_provider = gke.provider
    knative = KnativeInstall("knative", plan.install_args(settings, gke.provider), opts=needs_apis)
    service = KnativeModelService(
        name,
        plan.knative_service_args(
            settings,
            spec,
            provider=gke.provider,
            identity_email=identity.email,
            identity_name=identity.account.name,
            workload_pool=gke.workload_pool,
        ),
        opts=pulumi.ResourceOptions(depends_on=[*apis.resources, *knative.resources]),
    )
    url, candidate_url = service.url, service.candidate_url
    curl = url.apply(lambda url: knative_curl_example(url, public, settings.knative.namespace))
    outputs = {"ingressIp": knative.ingress_ip, "getCredentials": gke.get_credentials}
else:
    cloud_run = declare_cloud_run(settings, spec, identity.email, needs_apis)
    service, url, outputs = cloud_run.first, cloud_run.url, cloud_run.outputs()
    candidate_url = cloud_run.candidate_url
    curl = url.apply(lambda url: curl_example(url, public))

if settings.monitoring.enabled:
    ServiceMonitoring(
        f"{name}-monitoring",
        plan.monitoring_args(settings, spec, url=url, kubernetes_provider=kubernetes_provider),
        opts=pulumi.ResourceOptions(depends_on=[*apis.resources, service]),
    )

stack_outputs = {"url": url, "image": image.ref, "serviceAccount": identity.email, "curl": curl, **outputs}
for key, value in stack_outputs.items():
    pulumi.export(key, value)
# Read by `python -m infra rollout|rollback` between phases (docs/rollout.md).
pulumi.export(rollout.NEW_REVISION, service.new_revision)
pulumi.export(rollout.SERVING_OUTPUT, service.serving_revision)
pulumi.export(rollout.PREVIOUS_OUTPUT, service.previous_revision)
pulumi.export(rollout.CANDIDATE_REVISION, service.candidate_revision)
pulumi.export(rollout.CANDIDATE_SHARE, service.candidate_percent)
pulumi.export(rollout.CANDIDATE_URL, candidate_url)
pulumi.export(rollout.MODEL_REVISION, settings.model.revision)
