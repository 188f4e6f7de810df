"""Pure builders of the Knative objects: release manifest URLs, ConfigMap data, the
`serving.knative.dev/v1` Service for a `ModelServiceSpec`. Plain dicts, no Pulumi resources:
tested without Pulumi, and what the install and service components declare.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from infra import limits, scaling
from infra.ingresses import KNATIVE_INGRESSES
from infra.spec import CONTAINER_NAME, SCRATCH_DIR, SCRATCH_SIZE_MIB, ModelServiceSpec, Probe, curl_example

API_VERSION = "serving.knative.dev/v1"
SERVING_NAMESPACE = "knative-serving"
SERVING_RELEASES = "https://github.com/knative/serving/releases/download"
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


def release_manifests(version: str, ingress: str) -> dict[str, str]:
    """Release manifest URLs in install order: CRDs, core, networking layer."""
    layer = KNATIVE_INGRESSES[ingress]
    return {
        "crds": f"{SERVING_RELEASES}/{version}/serving-crds.yaml",
        "core": f"{SERVING_RELEASES}/{version}/serving-core.yaml",
        ingress: f"{layer.release_base}/{version}/{layer.manifest}",
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
        limits_[limits.GPU_RESOURCE] = "1"
    return {"requests": requests, "limits": limits_}


def autoscaling_annotations(
    spec: ModelServiceSpec, initial_scale: int, target: int, knobs: Sequence[tuple[str, str]] = ()
) -> dict[str, str]:
    """The revision's autoscaling annotations; `knobs` are (name, value) pairs the stack set
    (an unset knob is not rendered: Knative's own default holds)."""
    prefix = scaling.KNATIVE_AUTOSCALING_ANNOTATIONS
    return {
        f"{prefix}/metric": "concurrency",
        f"{prefix}/target": str(target or spec.concurrency),
        f"{prefix}/min-scale": str(spec.min_instances),
        f"{prefix}/max-scale": str(spec.max_instances),
        f"{prefix}/initial-scale": str(initial_scale),
        **{f"{prefix}/{name}": value for name, value in knobs},
    }


def knative_service_manifest(
    spec: ModelServiceSpec,
    *,
    namespace: str,
    service_account: str,
    public: bool,
    initial_scale: int,
    target: int = 0,
    autoscaling: Sequence[tuple[str, str]] = (),
    labels: Mapping[str, str] | None = None,
    revision: Any = None,
    traffic: Any = None,
) -> dict[str, Any]:
    """The `serving.knative.dev/v1` Service for `spec` (image may be a pulumi.Output).

    `revision` names the revision the template makes, `traffic` the phase's `spec.traffic`
    (default: the latest revision takes it all); either may be an Output.
    """
    metadata_labels = dict(labels or {})
    if not public:
        # Only reachable from inside the cluster (http://NAME.NAMESPACE.svc.cluster.local).
        metadata_labels[VISIBILITY_LABEL] = "cluster-local"
    container: dict[str, Any] = {
        "name": CONTAINER_NAME,
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
        pod["tolerations"] = [{"key": limits.GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}]
    template_metadata: dict[str, Any] = {} if revision is None else {"name": revision}
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
                    **template_metadata,
                    "labels": {"app": spec.name},
                    "annotations": autoscaling_annotations(spec, initial_scale, target, autoscaling),
                },
                "spec": pod,
            },
            "traffic": [{"latestRevision": True, "percent": 100}] if traffic is None else traffic,
        },
    }


def network_policy_spec(
    namespace: str, ingress_namespace: str, extra_ingress: Sequence[dict[str, Any]] = ()
) -> dict[str, Any]:
    """Only Knative (activator, autoscaler) and the gateway reach the model pods (Dataplane V2
    enforces it); every caller, in or out of the cluster, comes through the gateway.
    `extra_ingress`: further rules, e.g. a metrics scraper on the metrics port only."""
    return {
        "podSelector": {},
        "policyTypes": ["Ingress"],
        "ingress": [
            {
                "from": [
                    {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}}}
                    for ns in (SERVING_NAMESPACE, ingress_namespace, namespace)
                ]
            },
            *extra_ingress,
        ],
    }


def knative_curl_example(url: str, public: bool, namespace: str) -> str:
    """A public service answers through the ingress; a cluster-local one only from inside."""
    request = curl_example(url, public=True)  # the gateway asks for no identity token
    if public:
        return request
    return (
        f"kubectl run qa-curl -n {namespace} --rm -i --restart=Never --image=curlimages/curl -- "
        + request.removeprefix("curl ")
    )
