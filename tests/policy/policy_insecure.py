"""A deliberately insecure rendering: the dev render, broken in every way the rules know, and
exactly the (level, rule, resource) violations it must produce."""

from __future__ import annotations

from policy_helpers import (
    CLUSTER,
    GKE_NODE_POOL,
    KNATIVE,
    KNATIVE_SERVICE,
    NODE_POOL,
    PROJECT_IAM_MEMBER,
    REPOSITORY_IAM_MEMBER,
    SA_KEY,
    named,
    render_raw,
    set_path,
    variant,
)

RUNTIME = "serviceAccount:qa-dev-runtime@example-project.iam.gserviceaccount.com"
INSECURE_CLUSTER = {
    "location": "us-central1",
    "name": "qa-cluster",
    "enableLegacyAbac": True,
    "enableShieldedNodes": False,
    "loggingService": "none",
    "monitoringService": "none",
    "masterAuth": {"clientCertificateConfig": {"issueClientCertificate": True}},
    "nodeConfig": {"serviceAccount": "default", "imageType": "UBUNTU_CONTAINERD"},
}


def insecure_render() -> list[dict]:
    raw = render_raw("dev")
    service = named(raw, "qa-dev-service")["inputs"]
    for path, value in {
        "template.serviceAccount": "123456789012-compute@developer.gserviceaccount.com",
        "template.containers.0.image": "us-central1-docker.pkg.dev/example-project/qa-dev-images/qa-dev:latest",
        "template.containers.0.envs.6": {"name": "HF_TOKEN", "value": "hf_" + "x" * 34},
        "template.containers.0.startupProbe.failureThreshold": 400,
        "template.maxInstanceRequestConcurrency": 80,
        "template.timeout": "3600s",
        "labels.access": "private",  # while the allUsers invoker grant stays
        "labels.stack": "prod",  # with deletionProtection still false
        "invokerIamDisabled": True,
    }.items():
        set_path(service, path, value)
    del service["template"]["scaling"]["maxInstanceCount"]
    named(raw, "apis-run")["inputs"]["disableOnDestroy"] = True
    del named(raw, "images-repository")["inputs"]["cleanupPolicies"]
    raw += [
        {
            "type": REPOSITORY_IAM_MEMBER,
            "name": "public-images",
            "parent": "images",
            "inputs": {
                "repository": "qa-dev-images",
                "role": "roles/artifactregistry.reader",
                "member": "allUsers",
            },
        },
        {
            "type": PROJECT_IAM_MEMBER,
            "name": "runtime-editor",
            "parent": "runtime",
            "inputs": {"project": "example-project", "role": "roles/editor", "member": RUNTIME},
        },
        {
            "type": PROJECT_IAM_MEMBER,
            "name": "ci-token-creator",
            "parent": None,
            "inputs": {
                "project": "example-project",
                "role": "roles/iam.serviceAccountTokenCreator",
                "member": "user:dev@example.com",
            },
        },
        {
            "type": SA_KEY,
            "name": "runtime-key",
            "parent": "runtime",
            "inputs": {"serviceAccountId": "qa-dev-runtime"},
        },
        {"type": CLUSTER, "name": "qa-cluster", "parent": None, "inputs": INSECURE_CLUSTER},
        {
            "type": KNATIVE,
            "name": "qa-knative",
            "parent": None,
            "inputs": variant(KNATIVE_SERVICE, {"metadata.labels.access": "private"}),
        },
        {
            "type": NODE_POOL,
            "name": "qa-pool",
            "parent": None,
            "inputs": variant(GKE_NODE_POOL, {"management": {"autoRepair": False, "autoUpgrade": False}}),
        },
    ]
    return raw


EXPECTED_INSECURE = {
    ("mandatory", "cloudrun-dedicated-service-account", "qa-dev-service"),
    ("mandatory", "cloudrun-image-by-digest", "qa-dev-service"),
    ("mandatory", "cloudrun-no-plaintext-secrets", "qa-dev-service"),
    ("mandatory", "cloudrun-startup-probe-budget", "qa-dev-service"),
    ("mandatory", "cloudrun-max-instances", "qa-dev-service"),
    ("advisory", "cloudrun-request-timeout-inference", "qa-dev-service"),
    ("mandatory", "cloudrun-invoker-iam-disabled", "qa-dev-service"),
    ("mandatory", "cloudrun-deletion-protection-prod", "qa-dev-service"),
    ("mandatory", "rollout-gated-prod", "qa-dev-service"),  # dev's direct rollout, labelled prod
    ("mandatory", "monitoring-prod-slo-alerts", "qa-dev-service"),
    ("mandatory", "cloudrun-public-invoker-intended", "qa-dev-invoker-allusers-6a549f"),
    ("advisory", "cloudrun-concurrency-cpu-bound", "qa-dev-service"),
    ("advisory", "cloudrun-private-ingress", "qa-dev-service"),
    ("mandatory", "apis-keep-on-destroy", "apis-run"),
    ("mandatory", "artifact-registry-cleanup-policy", "images-repository"),
    ("mandatory", "artifact-registry-not-public", "public-images"),
    ("mandatory", "iam-no-basic-roles", "runtime-editor"),
    ("mandatory", "iam-no-project-sa-impersonation", "ci-token-creator"),
    ("mandatory", "iam-no-user-managed-sa-keys", "runtime-key"),
    ("mandatory", "gke-workload-identity", "qa-cluster"),
    ("mandatory", "gke-shielded-nodes", "qa-cluster"),
    ("mandatory", "gke-release-channel", "qa-cluster"),
    ("mandatory", "gke-legacy-abac-disabled", "qa-cluster"),
    ("mandatory", "gke-client-certificate-disabled", "qa-cluster"),
    ("mandatory", "gke-logging-enabled", "qa-cluster"),
    ("mandatory", "gke-monitoring-enabled", "qa-cluster"),
    ("mandatory", "gke-network-policy", "qa-cluster"),
    ("mandatory", "gke-metadata-server", "qa-cluster"),
    ("mandatory", "gke-secure-boot-integrity", "qa-cluster"),
    ("mandatory", "gke-dedicated-node-service-account", "qa-cluster"),
    ("mandatory", "gke-cos-containerd", "qa-cluster"),
    ("advisory", "gke-private-nodes", "qa-cluster"),
    ("mandatory", "gke-node-auto-repair", "qa-pool"),
    ("mandatory", "gke-node-auto-upgrade", "qa-pool"),
    ("mandatory", "knative-private-visibility", "qa-knative"),
}
