"""Knative Serving on the GKE cluster: the pinned install, and the model service from the same spec.

`KnativeInstall` applies the release manifests in order (CRDs → core → networking layer), then
tunes Knative's ConfigMaps for a CPU-bound model. `KnativeModelService` renders the one
`ModelServiceSpec` as a `serving.knative.dev/v1` Service (the pure `knative_service_manifest`),
with a Kubernetes service account bound by Workload Identity to the runtime service account.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from infra import child_options, limits, type_token
from infra.settings import Settings
from infra.spec import EXAMPLE_REQUEST, SCRATCH_DIR, SCRATCH_SIZE_MIB, ModelServiceSpec, Probe

API_VERSION = "serving.knative.dev/v1"
SERVING_NAMESPACE = "knative-serving"
SERVING_RELEASES = "https://github.com/knative/serving/releases/download"
# Networking layers: release base URL, manifest, and the namespace/Service of its gateway.
INGRESSES = {
    "kourier": (
        "https://github.com/knative-extensions/net-kourier/releases/download",
        "kourier.yaml",
        ("kourier-system", "kourier"),
    ),
}
VISIBILITY_LABEL = "networking.knative.dev/visibility"
WORKLOAD_IDENTITY_ANNOTATION = "iam.gke.io/gcp-service-account"
GPU_NODE_LABEL = "cloud.google.com/gke-accelerator"
# The image's own USER (service/Dockerfile), stated so the kubelet can verify runAsNonRoot.
RUN_AS_USER = 10001
SCRATCH_VOLUME = "scratch"
# Pod Security Admission: enforce baseline (Knative's queue-proxy sidecar fits it), warn and audit
# against restricted, which the model container itself meets.
POD_SECURITY_LABELS = {
    "pod-security.kubernetes.io/enforce": "baseline",
    "pod-security.kubernetes.io/warn": "restricted",
    "pod-security.kubernetes.io/audit": "restricted",
}
# Pulumi waits for the Service's Ready condition, so `url` is known and a bad revision fails the
# update instead of leaving it half-rolled.
WAIT_FOR_READY = {"pulumi.com/waitFor": "condition=Ready"}
# Generous: the first revision pulls a multi-GB image onto a node the autoscaler may still be adding.
INSTALL_TIMEOUTS = pulumi.CustomTimeouts(create="20m", update="20m", delete="10m")
SERVICE_TIMEOUTS = pulumi.CustomTimeouts(create="30m", update="30m", delete="10m")


# --- pure builders -----------------------------------------------------------------------------


def release_manifests(version: str, ingress: str) -> dict[str, str]:
    """Release manifest URLs in install order: CRDs, core, networking layer."""
    base, manifest, _ = INGRESSES[ingress]
    return {
        "crds": f"{SERVING_RELEASES}/{version}/serving-crds.yaml",
        "core": f"{SERVING_RELEASES}/{version}/serving-core.yaml",
        ingress: f"{base}/{version}/{manifest}",
    }


def config_network(ingress_class: str) -> dict[str, str]:
    return {"ingress-class": ingress_class}


def config_autoscaler(initial_scale: int, grace_seconds: int, retention_seconds: int) -> dict[str, str]:
    """Scale to zero, but keep the last pod around: a cold start loads the whole model."""
    return {
        "enable-scale-to-zero": "true",
        "scale-to-zero-grace-period": f"{grace_seconds}s",
        "scale-to-zero-pod-retention-period": f"{retention_seconds}s",
        # Knative refuses initial-scale 0 unless the cluster allows it.
        "allow-zero-initial-scale": "true" if initial_scale == 0 else "false",
    }


def config_defaults(timeout_seconds: int) -> dict[str, str]:
    """Revision timeouts: the service's own, under a cluster cap it never exceeds (settings check)."""
    return {
        "revision-timeout-seconds": str(timeout_seconds),
        "max-revision-timeout-seconds": str(limits.KNATIVE_MAX_REVISION_TIMEOUT_SECONDS),
    }


def config_features(gpu: bool) -> dict[str, str]:
    """Pod-spec fields Knative only accepts behind a flag: those the Service uses."""
    features = {"kubernetes.podspec-volumes-emptydir": "enabled"}  # the scratch volume at /tmp
    if gpu:
        features["kubernetes.podspec-nodeselector"] = "enabled"
        features["kubernetes.podspec-tolerations"] = "enabled"
    return features


def config_domain(domain: str, ingress_ip: str, magic_dns: bool) -> dict[str, str]:
    """Knative's domain for every service: IP.sslip.io resolves to the ingress IP with no DNS set-up."""
    return {f"{ingress_ip}.{domain}" if magic_dns else domain: ""}


def _probe(probe: Probe, port: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": probe.path, "port": port},
        "initialDelaySeconds": probe.initial_delay_seconds,
        "periodSeconds": probe.period_seconds,
        "timeoutSeconds": probe.timeout_seconds,
        "failureThreshold": probe.failure_threshold,
    }


def resources(spec: ModelServiceSpec) -> dict[str, dict[str, str]]:
    """Requests equal limits: the pod gets exactly what Cloud Run's limits give an instance
    (Guaranteed QoS, no CPU contention from neighbours mid-inference)."""
    requests = {"cpu": spec.cpu, "memory": spec.memory}
    limits_ = dict(requests)
    if spec.gpu:
        limits_["nvidia.com/gpu"] = "1"
    return {"requests": requests, "limits": limits_}


def autoscaling_annotations(spec: ModelServiceSpec, initial_scale: int, target: int) -> dict[str, str]:
    prefix = "autoscaling.knative.dev"
    return {
        f"{prefix}/metric": "concurrency",
        f"{prefix}/target": str(target or spec.concurrency),
        f"{prefix}/min-scale": str(spec.min_instances),
        f"{prefix}/max-scale": str(spec.max_instances),
        f"{prefix}/initial-scale": str(initial_scale),
    }


def knative_service_manifest(
    spec: ModelServiceSpec,
    *,
    namespace: str,
    service_account: str,
    public: bool,
    initial_scale: int,
    target: int = 0,
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The `serving.knative.dev/v1` Service for `spec` (image may be a pulumi.Output)."""
    metadata_labels = dict(labels or {})
    if not public:
        # Only reachable from inside the cluster (http://NAME.NAMESPACE.svc.cluster.local).
        metadata_labels[VISIBILITY_LABEL] = "cluster-local"
    container: dict[str, Any] = {
        "name": "model",
        "image": spec.image,
        "ports": [{"name": "http1", "containerPort": spec.port}],
        "env": [{"name": k, "value": v} for k, v in spec.env],
        "resources": resources(spec),
        "startupProbe": _probe(spec.startup_probe, spec.port),
        "readinessProbe": _probe(spec.readiness_probe, spec.port),
        "livenessProbe": _probe(spec.liveness_probe, spec.port),
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RUN_AS_USER,
            "runAsGroup": RUN_AS_USER,
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
            # The image writes only under SCRATCH_DIR (tests/image runs it this way).
            "readOnlyRootFilesystem": True,
        },
        "volumeMounts": [{"name": SCRATCH_VOLUME, "mountPath": SCRATCH_DIR}],
    }
    pod: dict[str, Any] = {
        "serviceAccountName": service_account,
        # Workload Identity goes through the GKE metadata server; the pod needs no API token.
        "automountServiceAccountToken": False,
        "containerConcurrency": spec.concurrency,
        "timeoutSeconds": spec.timeout_seconds,
        "containers": [container],
        "volumes": [{"name": SCRATCH_VOLUME, "emptyDir": {"sizeLimit": f"{SCRATCH_SIZE_MIB}Mi"}}],
    }
    if spec.gpu:
        pod["nodeSelector"] = {GPU_NODE_LABEL: spec.gpu}
        pod["tolerations"] = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    return {
        "apiVersion": API_VERSION,
        "kind": "Service",
        "metadata": {
            "name": spec.name,
            "namespace": namespace,
            "labels": metadata_labels,
            "annotations": dict(WAIT_FOR_READY),
        },
        "spec": {
            "template": {
                "metadata": {
                    "labels": {"app": spec.name},
                    "annotations": autoscaling_annotations(spec, initial_scale, target),
                },
                "spec": pod,
            },
            "traffic": [{"latestRevision": True, "percent": 100}],
        },
    }


def network_policy_spec(namespace: str, ingress_namespace: str) -> dict[str, Any]:
    """Only Knative (activator, autoscaler) and the gateway reach the model pods (Dataplane V2
    enforces it); every caller, in or out of the cluster, comes through the gateway."""
    return {
        "podSelector": {},
        "policyTypes": ["Ingress"],
        "ingress": [
            {
                "from": [
                    {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}}}
                    for ns in (SERVING_NAMESPACE, ingress_namespace, namespace)
                ]
            }
        ],
    }


def knative_curl_example(url: str, public: bool, namespace: str) -> str:
    """A public service answers through the ingress; a cluster-local one only from inside."""
    request = f"curl -sS -X POST {url}/predict -H 'Content-Type: application/json' -d '{EXAMPLE_REQUEST}'"
    if public:
        return request
    return (
        f"kubectl run qa-curl -n {namespace} --rm -i --restart=Never --image=curlimages/curl -- "
        + request.removeprefix("curl ")
    )


# --- components ------------------------------------------------------------------------------


class KnativeServiceResource(k8s.apiextensions.CustomResource):
    """A CustomResource that also surfaces `status`: the base class only resolves the outputs it
    declares (apiVersion, kind, metadata, spec), and the service URL lives in status."""

    status: pulumi.Output[Any]

    def _internal_init(  # noqa: PLR0917 — the signature CustomResource.__init__ calls
        self,
        resource_name: str,
        api_version: str,
        kind: str,
        opts: pulumi.ResourceOptions | None = None,
        metadata: Any = None,
        spec: Any = None,
        __props__: Any = None,
    ) -> None:
        props = k8s.apiextensions.CustomResourceArgs.__new__(k8s.apiextensions.CustomResourceArgs)
        props.__dict__.update(api_version=api_version, kind=kind, metadata=metadata, spec=spec, status=None)
        pulumi.CustomResource.__init__(self, f"kubernetes:{api_version}:{kind}", resource_name, props, opts)


@dataclass(frozen=True)
class KnativeInstallArgs:
    provider: k8s.Provider
    project: str
    region: str
    version: str
    ingress: str  # a key of INGRESSES
    ingress_class: str
    domain: str
    magic_dns: bool
    address_name: str
    autoscaler: Mapping[str, str]
    defaults: Mapping[str, str]
    features: Mapping[str, str] = field(default_factory=dict)


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


class KnativeInstall(pulumi.ComponentResource):
    """Knative Serving at a pinned release, its networking layer on a reserved IP, and its config.

    `resources` is what a Knative Service must wait for.
    """

    address: gcp.compute.Address
    crds: k8s.yaml.v2.ConfigFile
    core: k8s.yaml.v2.ConfigFile
    networking: k8s.yaml.v2.ConfigFile
    resources: list[pulumi.Resource]
    ingress_ip: pulumi.Output[str]
    domain: pulumi.Output[str]

    def __init__(self, name: str, args: KnativeInstallArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(type_token("KnativeInstall"), name, None, opts)
        child = child_options(self, opts)

        def kube(*after: pulumi.Resource, **extra: Any) -> pulumi.ResourceOptions:
            # Every Kubernetes object names the cluster's provider itself, never an ambient one.
            return pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(provider=args.provider, depends_on=list(after), **extra)
            )

        # A reserved regional IP for the gateway: stable DNS target, and the sslip.io domain is
        # known before the load balancer exists.
        self.address = gcp.compute.Address(
            f"{name}-ingress-address",
            project=args.project,
            region=args.region,
            name=args.address_name,
            address_type="EXTERNAL",
            network_tier="PREMIUM",
            description="Knative ingress gateway (managed by Pulumi)",
            opts=child,
        )
        self.ingress_ip = self.address.address
        urls = release_manifests(args.version, args.ingress)
        # Strict order: the core's webhooks and controllers need the CRDs, and the networking
        # layer registers against the core. (ConfigFile is a component: its Deployments use the
        # provider's own await; the timeouts apply where the provider passes them down.)
        self.crds = k8s.yaml.v2.ConfigFile(
            f"{name}-crds", file=urls["crds"], opts=kube(custom_timeouts=INSTALL_TIMEOUTS)
        )
        self.core = k8s.yaml.v2.ConfigFile(
            f"{name}-core", file=urls["core"], opts=kube(self.crds, custom_timeouts=INSTALL_TIMEOUTS)
        )
        self.networking = k8s.yaml.v2.ConfigFile(
            f"{name}-{args.ingress}",
            file=urls[args.ingress],
            opts=kube(self.core, custom_timeouts=INSTALL_TIMEOUTS),
        )
        self.domain = self.address.address.apply(
            lambda ip: next(iter(config_domain(args.domain, ip, args.magic_dns)))
        )
        configs = {
            "config-network": config_network(args.ingress_class),
            "config-autoscaler": dict(args.autoscaler),
            "config-defaults": dict(args.defaults),
            "config-features": dict(args.features),
            "config-domain": self.address.address.apply(
                lambda ip: config_domain(args.domain, ip, args.magic_dns)
            ),
        }
        # Patches, not replacements: only these keys change (server-side apply), the rest of each
        # ConfigMap stays as the release ships it. They exist once the core does.
        patches = [
            k8s.core.v1.ConfigMapPatch(
                f"{name}-{config}",
                metadata={"name": config, "namespace": SERVING_NAMESPACE},
                data=data,
                opts=kube(self.core),
            )
            for config, data in configs.items()
            if data
        ]
        gateway_namespace, gateway = INGRESSES[args.ingress][2]
        gateway_ip = k8s.core.v1.ServicePatch(
            f"{name}-{args.ingress}-address",
            metadata={"name": gateway, "namespace": gateway_namespace},
            spec={"loadBalancerIP": self.address.address},
            opts=kube(self.networking),
        )
        self.resources = [self.crds, self.core, self.networking, *patches, gateway_ip]
        self.register_outputs({"ingress_ip": self.ingress_ip, "domain": self.domain})


@dataclass(frozen=True)
class KnativeModelServiceArgs:
    spec: ModelServiceSpec
    provider: k8s.Provider
    project: str
    namespace: str
    gateway_namespace: str
    service_account_email: pulumi.Input[str]  # the runtime GCP service account
    service_account_name: pulumi.Input[str]  # its resource name, projects/P/serviceAccounts/EMAIL
    workload_pool: pulumi.Input[str]  # PROJECT.svc.id.goog, from the cluster
    public: bool
    initial_scale: int
    target: int = 0
    labels: dict[str, str] = field(default_factory=dict)


def service_args(
    settings: Settings,
    spec: ModelServiceSpec,
    *,
    provider: k8s.Provider,
    identity_email: pulumi.Input[str],
    identity_name: pulumi.Input[str],
    workload_pool: pulumi.Input[str],
) -> KnativeModelServiceArgs:
    public = settings.access.public
    return KnativeModelServiceArgs(
        spec=spec,
        provider=provider,
        project=settings.project,
        namespace=settings.knative.namespace,
        gateway_namespace=INGRESSES[settings.knative.ingress][2][0],
        service_account_email=identity_email,
        service_account_name=identity_name,
        workload_pool=workload_pool,
        public=public,
        initial_scale=settings.knative.initial_scale,
        target=settings.knative.target,
        labels={**settings.labels, "access": "public" if public else "private"},
    )


class KnativeModelService(pulumi.ComponentResource):
    """The model as a Knative Service in its own namespace, running as the runtime identity."""

    namespace: k8s.core.v1.Namespace
    service_account: k8s.core.v1.ServiceAccount
    service: KnativeServiceResource
    url: pulumi.Output[str]
    service_name: pulumi.Output[str]
    latest_revision: pulumi.Output[str]

    def __init__(self, name: str, args: KnativeModelServiceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(type_token("KnativeModelService"), name, None, opts)
        child = child_options(self, opts)

        def kube(*after: pulumi.Resource, **extra: Any) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(provider=args.provider, depends_on=list(after), **extra)
            )

        spec = args.spec
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={"name": args.namespace, "labels": {**args.labels, **POD_SECURITY_LABELS}},
            opts=kube(),
        )
        namespace = self.namespace.metadata.name  # an Output: objects in it wait for it
        self.service_account = k8s.core.v1.ServiceAccount(
            f"{name}-account",
            metadata={
                "name": spec.name,
                "namespace": namespace,
                "labels": dict(args.labels),
                "annotations": {WORKLOAD_IDENTITY_ANNOTATION: args.service_account_email},
            },
            automount_service_account_token=False,
            opts=kube(),
        )
        # Workload Identity: this Kubernetes service account may act as the runtime identity.
        binding = gcp.serviceaccount.IAMMember(
            f"{name}-workload-identity",
            service_account_id=args.service_account_name,
            role="roles/iam.workloadIdentityUser",
            member=pulumi.Output.concat(
                "serviceAccount:", args.workload_pool, "[", args.namespace, "/", spec.name, "]"
            ),
            opts=child,
        )
        policy = k8s.networking.v1.NetworkPolicy(
            f"{name}-network-policy",
            metadata={"name": f"{spec.name}-ingress", "namespace": namespace, "labels": dict(args.labels)},
            spec=network_policy_spec(args.namespace, args.gateway_namespace),
            opts=kube(),
        )
        manifest = knative_service_manifest(
            spec,
            namespace=args.namespace,
            service_account=spec.name,
            public=args.public,
            initial_scale=args.initial_scale,
            target=args.target,
            labels=args.labels,
        )
        self.service = KnativeServiceResource(
            f"{name}-service",
            api_version=manifest["apiVersion"],
            kind=manifest["kind"],
            metadata=manifest["metadata"],
            spec=manifest["spec"],
            opts=kube(
                self.namespace, self.service_account, binding, policy, custom_timeouts=SERVICE_TIMEOUTS
            ),
        )
        status = self.service.status
        self.url = status.apply(lambda s: (s or {}).get("url"))
        self.service_name = pulumi.Output.from_input(spec.name)
        self.latest_revision = status.apply(lambda s: (s or {}).get("latestReadyRevisionName"))
        self.register_outputs(
            {"url": self.url, "service_name": self.service_name, "latest_revision": self.latest_revision}
        )
