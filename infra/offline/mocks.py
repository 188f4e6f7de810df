"""Pulumi SDK mocks with realistic computed outputs, shared by the offline render and the tests.

A real `pulumi up` gets URLs, e-mails and digests back from the providers; these mocks return
values of the same shape, derived deterministically from the inputs, so the program's
`apply`s and exports run for real and two renders of the same stack are byte-identical. `monitor`
runs a program against them.
"""

from __future__ import annotations

import base64

import pulumi

from infra.offline.stand_ins import (
    OFFLINE_ACCESS_TOKEN,
    STAND_IN_NETWORKS,
    fake_digest,
    fake_hash,
    fake_ip,
    project_number,
)
from infra.rollout.traffic import knative_tag_host


class OfflineMocks(pulumi.runtime.Mocks):
    def __init__(self, project: str, region: str):
        self.project = project
        self.region = region
        # Kubernetes objects declared so far, as the API server would hold them: controllers
        # read each other's config (Knative builds service URLs from config-domain).
        self.kubernetes_objects: dict[tuple[str, str, str], dict] = {}

    # -- resources ----------------------------------------------------------------------------
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        inputs = dict(args.inputs)
        outputs_for = _OUTPUTS.get(args.typ)
        extra = outputs_for(self, args.name, inputs) if outputs_for else {}
        state = {**inputs, **extra}
        return state.pop("__id", f"{args.name}-id"), state

    # -- provider functions -------------------------------------------------------------------
    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
        if args.token == "gcp:organizations/getClientConfig:getClientConfig":
            return {
                "accessToken": OFFLINE_ACCESS_TOKEN,
                "project": self.project,
                "region": self.region,
                "id": self.project,
            }
        if args.token == "gcp:organizations/getProject:getProject":
            project = args.args.get("projectId") or self.project
            return {
                "projectId": project,
                "number": project_number(project),
                "name": project,
                "id": f"projects/{project}",
            }
        if args.token == "docker:index/getRegistryImage:getRegistryImage":
            return {
                "name": args.args["name"],
                "sha256Digest": fake_digest(args.args["name"]),
            }
        return {}


def _project(mock: OfflineMocks, inputs: dict) -> str:
    return inputs.get("project") or mock.project


def _api(mock: OfflineMocks, name: str, inputs: dict) -> dict:
    return {"__id": f"{_project(mock, inputs)}/{inputs['service']}"}


def _repository(mock: OfflineMocks, name: str, inputs: dict) -> dict:
    path = (
        f"projects/{_project(mock, inputs)}/locations/{inputs.get('location', mock.region)}"
        f"/repositories/{inputs['repositoryId']}"
    )
    return {"__id": path, "name": inputs["repositoryId"], "project": _project(mock, inputs)}


def _service_account(mock: OfflineMocks, name: str, inputs: dict) -> dict:
    email = f"{inputs['accountId']}@{_project(mock, inputs)}.iam.gserviceaccount.com"
    return {
        "__id": f"projects/{_project(mock, inputs)}/serviceAccounts/{email}",
        "name": f"projects/{_project(mock, inputs)}/serviceAccounts/{email}",
        "email": email,
        "member": f"serviceAccount:{email}",
        "uniqueId": str(int(fake_hash(email, length=15), 16)),
    }


def _docker_image(mock: OfflineMocks, name: str, inputs: dict) -> dict:
    image_name = inputs["imageName"]
    repository = image_name.rsplit(":", 1)[0]
    return {"repoDigest": f"{repository}@{fake_digest(image_name)}", "imageName": image_name}


def _command(mock: OfflineMocks, name: str, inputs: dict) -> dict:
    return {"stdout": f"{fake_digest(inputs.get('create', name))}\n", "stderr": ""}


def _cloud_run_service(mock: OfflineMocks, name: str, inputs: dict) -> dict:
    project, region = _project(mock, inputs), inputs.get("location", mock.region)
    service = inputs.get("name", name)
    host = f"{service}-{project_number(project)}.{region}.run.app"
    template = inputs.get("template") or {}
    # As Cloud Run reports traffic: each target, and a tagged one with its own URL.
    statuses = [
        {**target, **({"uri": f"https://{target['tag']}---{host}"} if target.get("tag") else {})}
        for target in inputs.get("traffics") or []
    ]
    return {
        "__id": f"projects/{project}/locations/{region}/services/{service}",
        "name": service,
        "uri": f"https://{host}",
        "urls": [f"https://{host}"],
        "latestReadyRevision": template.get("revision") or f"{service}-00001-{fake_hash(template, length=3)}",
        "trafficStatuses": statuses,
        "project": project,
    }


def _compute_path(mock: OfflineMocks, inputs: dict, collection: str, name: str) -> str:
    scope = f"regions/{inputs['region']}" if "region" in inputs else "global"
    return f"projects/{_project(mock, inputs)}/{scope}/{collection}/{inputs.get('name', name)}"


def _compute(collection: str):
    def outputs(mock: OfflineMocks, name: str, inputs: dict) -> dict:
        path = _compute_path(mock, inputs, collection, name)
        return {
            "__id": path,
            "name": inputs.get("name", name),
            "selfLink": f"https://www.googleapis.com/compute/v1/{path}",
        }

    return outputs


def _address(mock: OfflineMocks, name: str, inputs: dict) -> dict:
    return {**_compute("addresses")(mock, name, inputs), "address": fake_ip(mock.project, name)}


def _cluster(mock: OfflineMocks, name: str, inputs: dict) -> dict:
    project, location = _project(mock, inputs), inputs.get("location", mock.region)
    cluster = inputs.get("name", name)
    ca = base64.b64encode(f"-----BEGIN CERTIFICATE-----\n{fake_hash(cluster)}\n".encode()).decode()
    return {
        "__id": f"projects/{project}/locations/{location}/clusters/{cluster}",
        "name": cluster,
        "location": location,
        "endpoint": fake_ip(project, cluster, network=STAND_IN_NETWORKS[1]),
        "masterAuth": {**inputs.get("masterAuth", {}), "clusterCaCertificate": ca},
        "masterVersion": "1.34.1-gke.1000",
        "selfLink": f"https://container.googleapis.com/v1/projects/{project}/locations/{location}"
        f"/clusters/{cluster}",
    }


def _node_pool(mock: OfflineMocks, name: str, inputs: dict) -> dict:
    project, location = _project(mock, inputs), inputs.get("location", mock.region)
    return {
        "__id": f"{project}/{location}/{inputs.get('cluster')}/{name}",
        "name": inputs.get("name", name),
        "version": "1.34.1-gke.1000",
        "instanceGroupUrls": [],
    }


def _kubernetes_key(inputs: dict) -> tuple[str, str, str]:
    metadata = inputs.get("metadata") or {}
    return (inputs.get("kind", ""), metadata.get("namespace", ""), metadata.get("name", ""))


def _kubernetes_patch(mock: OfflineMocks, name: str, inputs: dict) -> dict:
    key = _kubernetes_key(inputs)
    live = mock.kubernetes_objects.setdefault(key, {})
    for field in ("data", "spec"):
        if field in inputs:
            live[field] = {**live.get(field, {}), **inputs[field]}
    return {"__id": "/".join(key[1:])}


def _knative_service(mock: OfflineMocks, name: str, inputs: dict) -> dict:
    """What Knative's controller reports once the first revision is ready."""
    _, namespace, service = _kubernetes_key(inputs)
    domains = mock.kubernetes_objects.get(("ConfigMap", "knative-serving", "config-domain"), {})
    domain = next(iter(domains.get("data") or {}), "svc.cluster.local")
    labels = (inputs.get("metadata") or {}).get("labels") or {}
    local = f"http://{service}.{namespace}.svc.cluster.local"
    private = labels.get("networking.knative.dev/visibility") == "cluster-local"
    template = (inputs.get("spec") or {}).get("template") or {}
    revision = (template.get("metadata") or {}).get("name") or f"{service}-00001"
    # A tagged target gets its own host, TAG-SERVICE.NAMESPACE.DOMAIN (Knative's default template).
    zone = "svc.cluster.local" if private else domain
    traffic = [
        {
            **target,
            **({"revisionName": revision} if target.get("latestRevision") else {}),
            **(
                {"url": f"http://{knative_tag_host(target['tag'], service, namespace, zone)}"}
                if target.get("tag")
                else {}
            ),
        }
        for target in (inputs.get("spec") or {}).get("traffic") or []
    ]
    return {
        "__id": f"{namespace}/{service}",
        "status": {
            "url": local if private else f"http://{service}.{namespace}.{domain}",
            "address": {"url": local},
            "latestCreatedRevisionName": revision,
            "latestReadyRevisionName": revision,
            "observedGeneration": 1,
            "conditions": [
                {"type": t, "status": "True"} for t in ("ConfigurationsReady", "Ready", "RoutesReady")
            ],
            "traffic": traffic,
        },
    }


def _monitoring(collection: str, id_key: str = ""):
    """Cloud Monitoring objects are named projects/P/COLLECTION/ID, the ID chosen by the API
    unless the input names it (`id_key`)."""

    def outputs(mock: OfflineMocks, name: str, inputs: dict) -> dict:
        object_id = inputs.get(id_key) if id_key else None
        object_id = object_id or fake_hash(name, length=16)
        path = f"projects/{_project(mock, inputs)}/{collection}/{object_id}"
        return {"__id": path, "name": path, **({id_key: object_id} if id_key else {})}

    return outputs


def _slo(mock: OfflineMocks, name: str, inputs: dict) -> dict:
    service = f"projects/{_project(mock, inputs)}/services/{inputs['service']}"
    path = f"{service}/serviceLevelObjectives/{inputs['sloId']}"
    return {"__id": path, "name": path}


def _uptime_check(mock: OfflineMocks, name: str, inputs: dict) -> dict:
    check_id = f"{inputs.get('displayName', name).split()[0]}-{fake_hash(name, length=8)}"
    path = f"projects/{_project(mock, inputs)}/uptimeCheckConfigs/{check_id}"
    return {"__id": path, "name": path, "uptimeCheckId": check_id}


_OUTPUTS = {
    "gcp:monitoring/notificationChannel:NotificationChannel": _monitoring("notificationChannels"),
    "gcp:monitoring/genericService:GenericService": _monitoring("services", "serviceId"),
    "gcp:monitoring/slo:Slo": _slo,
    "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig": _uptime_check,
    "gcp:monitoring/alertPolicy:AlertPolicy": _monitoring("alertPolicies"),
    "gcp:monitoring/dashboard:Dashboard": _monitoring("dashboards"),
    "gcp:projects/service:Service": _api,
    "gcp:artifactregistry/repository:Repository": _repository,
    "gcp:serviceaccount/account:Account": _service_account,
    "docker:index/image:Image": _docker_image,
    "command:local:Command": _command,
    "gcp:cloudrunv2/service:Service": _cloud_run_service,
    "gcp:compute/network:Network": _compute("networks"),
    "gcp:compute/subnetwork:Subnetwork": _compute("subnetworks"),
    "gcp:compute/router:Router": _compute("routers"),
    "gcp:compute/address:Address": _address,
    # The front door (infra/components/front_door).
    "gcp:compute/globalAddress:GlobalAddress": _address,
    "gcp:compute/regionNetworkEndpointGroup:RegionNetworkEndpointGroup": _compute("networkEndpointGroups"),
    "gcp:compute/securityPolicy:SecurityPolicy": _compute("securityPolicies"),
    "gcp:compute/backendService:BackendService": _compute("backendServices"),
    "gcp:compute/uRLMap:URLMap": _compute("urlMaps"),
    "gcp:compute/managedSslCertificate:ManagedSslCertificate": _compute("sslCertificates"),
    "gcp:compute/targetHttpsProxy:TargetHttpsProxy": _compute("targetHttpsProxies"),
    "gcp:compute/targetHttpProxy:TargetHttpProxy": _compute("targetHttpProxies"),
    "gcp:compute/globalForwardingRule:GlobalForwardingRule": _compute("forwardingRules"),
    "gcp:container/cluster:Cluster": _cluster,
    "gcp:container/nodePool:NodePool": _node_pool,
    "kubernetes:core/v1:ConfigMapPatch": _kubernetes_patch,
    "kubernetes:core/v1:ServicePatch": _kubernetes_patch,
    "kubernetes:serving.knative.dev/v1:Service": _knative_service,
}


def register_outputs(resource_type: str):
    """Add computed outputs for another resource type (used by the Knative/GKE components)."""

    def decorate(fn):
        _OUTPUTS[resource_type] = fn
        return fn

    return decorate
