"""Passing and failing fixtures for the GKE rules (pulumi-gcp container.Cluster / NodePool)."""

from __future__ import annotations

from policy_helpers import (
    AUTOPILOT_CLUSTER,
    CLUSTER,
    DELETE,
    DIGEST,
    GKE_CLUSTER,
    GKE_NODE_POOL,
    KNATIVE,
    KNATIVE_SERVICE,
    NODE_CONFIG,
    NODE_POOL,
    PRIVATE_KNATIVE_SERVICE,
    case,
    res,
    variant,
)

COMPUTE_DEFAULT = "123456789012-compute@developer.gserviceaccount.com"


def cluster(name: str, changes: dict | None = None, base: dict = GKE_CLUSTER):
    return res(CLUSTER, name, base, changes)


def pool(name: str, changes: dict | None = None):
    return res(NODE_POOL, name, GKE_NODE_POOL, changes)


def with_default_pool(name: str, node_changes: dict | None = None):
    """A cluster that keeps its default pool, configured by the top-level nodeConfig."""
    return cluster(
        name,
        {"removeDefaultNodePool": DELETE, "nodeConfig": variant(NODE_CONFIG, node_changes)},
    )


def inline_pool(name: str, pool_changes: dict):
    inline = variant({"name": "inline", "nodeConfig": NODE_CONFIG, "management": {}}, pool_changes)
    return cluster(name, {"nodePools": [inline]})


AUTOPILOT = res(CLUSTER, "autopilot", AUTOPILOT_CLUSTER)
C0 = "spec.template.spec.containers.0"


def knative(name: str, changes: dict | None = None, base: dict = KNATIVE_SERVICE):
    return res(KNATIVE, name, base, changes)


CASES = [
    case(
        "gke-workload-identity",
        [
            cluster("hardened"),
            AUTOPILOT,
            cluster("no-config", {"workloadIdentityConfig": DELETE}),
            cluster("empty-pool", {"workloadIdentityConfig.workloadPool": ""}),
        ],
        passing={"hardened", "autopilot"},
        failing={"no-config", "empty-pool"},
    ),
    case(
        "gke-shielded-nodes",
        [
            cluster("hardened"),
            cluster("default-on", {"enableShieldedNodes": DELETE}),
            cluster("turned-off", {"enableShieldedNodes": False}),
        ],
        passing={"hardened", "default-on"},
        failing={"turned-off"},
    ),
    case(
        "gke-release-channel",
        [
            cluster("regular"),
            cluster("stable", {"releaseChannel.channel": "STABLE"}),
            cluster("none", {"releaseChannel": DELETE}),
            cluster("unspecified", {"releaseChannel.channel": "UNSPECIFIED"}),
        ],
        passing={"regular", "stable"},
        failing={"none", "unspecified"},
    ),
    case(
        "gke-legacy-abac-disabled",
        [
            cluster("hardened"),
            cluster("default-off", {"enableLegacyAbac": DELETE}),
            cluster("abac", {"enableLegacyAbac": True}),
        ],
        passing={"hardened", "default-off"},
        failing={"abac"},
    ),
    case(
        "gke-client-certificate-disabled",
        [
            cluster("hardened"),
            cluster("no-master-auth", {"masterAuth": DELETE}),
            cluster("client-cert", {"masterAuth.clientCertificateConfig.issueClientCertificate": True}),
        ],
        passing={"hardened", "no-master-auth"},
        failing={"client-cert"},
    ),
    case(
        "gke-logging-enabled",
        [
            cluster("hardened"),
            cluster("defaults", {"loggingConfig": DELETE}),
            cluster("kubernetes-service", {"loggingService": "logging.googleapis.com/kubernetes"}),
            cluster("logging-none", {"loggingService": "none"}),
            cluster("system-only", {"loggingConfig.enableComponents": ["SYSTEM_COMPONENTS"]}),
            cluster("no-components", {"loggingConfig.enableComponents": []}),
        ],
        passing={"hardened", "defaults", "kubernetes-service"},
        failing={"logging-none", "system-only", "no-components"},
    ),
    case(
        "gke-monitoring-enabled",
        [
            cluster("hardened"),
            cluster("defaults", {"monitoringConfig": DELETE}),
            cluster("monitoring-none", {"monitoringService": "none"}),
            cluster("no-components", {"monitoringConfig.enableComponents": []}),
        ],
        passing={"hardened", "defaults"},
        failing={"monitoring-none", "no-components"},
    ),
    case(
        "gke-network-policy",
        [
            cluster("dataplane-v2"),
            cluster("calico", {"datapathProvider": DELETE, "networkPolicy": {"enabled": True}}),
            AUTOPILOT,
            cluster("legacy-datapath", {"datapathProvider": "LEGACY_DATAPATH"}),
            cluster("policy-off", {"datapathProvider": DELETE, "networkPolicy": {"enabled": False}}),
        ],
        passing={"dataplane-v2", "calico", "autopilot"},
        failing={"legacy-datapath", "policy-off"},
    ),
    case(
        "gke-private-nodes",
        [
            cluster("private"),
            AUTOPILOT,
            pool("inherits"),
            cluster("public-nodes", {"privateClusterConfig": DELETE}),
            cluster("explicitly-public", {"privateClusterConfig.enablePrivateNodes": False}),
            pool("pool-opts-out", {"networkConfig": {"enablePrivateNodes": False}}),
        ],
        passing={"private", "autopilot", "inherits"},
        failing={"public-nodes", "explicitly-public", "pool-opts-out"},
    ),
    case(
        "gke-metadata-server",
        [
            cluster("default-pool-removed", {"nodeConfig": DELETE}),
            with_default_pool("default-pool-hardened"),
            pool("pool-hardened"),
            AUTOPILOT,
            pool("pool-gce-metadata", {"nodeConfig.workloadMetadataConfig.mode": "GCE_METADATA"}),
            pool("pool-unset", {"nodeConfig.workloadMetadataConfig": DELETE}),
            cluster("default-pool-all-defaults", {"removeDefaultNodePool": DELETE, "nodeConfig": DELETE}),
            inline_pool("inline-unspecified", {"nodeConfig.workloadMetadataConfig.mode": "MODE_UNSPECIFIED"}),
        ],
        passing={"default-pool-removed", "default-pool-hardened", "pool-hardened", "autopilot"},
        failing={"pool-gce-metadata", "pool-unset", "default-pool-all-defaults", "inline-unspecified"},
    ),
    case(
        "gke-secure-boot-integrity",
        [
            pool("pool-hardened"),
            with_default_pool("default-pool-hardened"),
            AUTOPILOT,
            pool("no-secure-boot", {"nodeConfig.shieldedInstanceConfig.enableSecureBoot": DELETE}),
            pool("no-shielded-config", {"nodeConfig.shieldedInstanceConfig": DELETE}),
            with_default_pool("integrity-off", {"shieldedInstanceConfig.enableIntegrityMonitoring": False}),
        ],
        passing={"pool-hardened", "default-pool-hardened", "autopilot"},
        failing={"no-secure-boot", "no-shielded-config", "integrity-off"},
    ),
    case(
        "gke-dedicated-node-service-account",
        [
            pool("pool-dedicated"),
            cluster("default-pool-removed"),
            AUTOPILOT,
            pool("pool-unset", {"nodeConfig.serviceAccount": DELETE}),
            pool("pool-literal-default", {"nodeConfig.serviceAccount": "default"}),
            with_default_pool("default-pool-compute", {"serviceAccount": COMPUTE_DEFAULT}),
            res(CLUSTER, "autopilot-default", AUTOPILOT_CLUSTER, {"clusterAutoscaling": DELETE}),
            cluster("nap-default", {"clusterAutoscaling": {"enabled": True}}),
        ],
        passing={"pool-dedicated", "default-pool-removed", "autopilot"},
        failing={
            "pool-unset",
            "pool-literal-default",
            "default-pool-compute",
            "autopilot-default",
            "nap-default",
        },
    ),
    case(
        "gke-cos-containerd",
        [
            pool("cos-containerd"),
            pool("lowercase", {"nodeConfig.imageType": "cos_containerd"}),
            pool("gke-default", {"nodeConfig.imageType": DELETE}),
            pool("ubuntu", {"nodeConfig.imageType": "UBUNTU_CONTAINERD"}),
            inline_pool("inline-docker-cos", {"nodeConfig.imageType": "COS"}),
        ],
        passing={"cos-containerd", "lowercase", "gke-default"},
        failing={"ubuntu", "inline-docker-cos"},
    ),
    case(
        "gke-node-auto-repair",
        [
            pool("repairs"),
            pool("provider-default", {"management": DELETE}),
            cluster("inline-default", {"nodePools": [{"name": "inline", "nodeConfig": NODE_CONFIG}]}),
            pool("repair-off", {"management.autoRepair": False}),
            inline_pool("inline-repair-off", {"management.autoRepair": False}),
        ],
        passing={"repairs", "provider-default", "inline-default"},
        failing={"repair-off", "inline-repair-off"},
    ),
    case(
        "gke-node-auto-upgrade",
        [
            pool("upgrades"),
            pool("provider-default", {"management.autoUpgrade": DELETE}),
            pool("upgrade-off", {"management.autoUpgrade": False}),
            inline_pool("inline-upgrade-off", {"management.autoUpgrade": False}),
        ],
        passing={"upgrades", "provider-default"},
        failing={"upgrade-off", "inline-upgrade-off"},
    ),
    case(
        "knative-image-pinned",
        [
            knative("digest"),
            knative("tag", {f"{C0}.image": "us-central1-docker.pkg.dev/p/r/qa-gke:v1"}),
            knative("docker-hub", {f"{C0}.image": f"docker.io/library/python@{DIGEST}"}),
        ],
        passing={"digest"},
        failing={"tag", "docker-hub"},
    ),
    case(
        "knative-no-plaintext-secrets",
        [
            knative("plain-settings"),
            knative(
                "secret-ref",
                {
                    f"{C0}.env.1": {
                        "name": "HF_TOKEN",
                        "valueFrom": {"secretKeyRef": {"name": "hf", "key": "token"}},
                    }
                },
            ),
            knative("token-in-env", {f"{C0}.env.1": {"name": "HF_TOKEN", "value": "hf_" + "z" * 34}}),
        ],
        passing={"plain-settings", "secret-ref"},
        failing={"token-in-env"},
    ),
    case(
        "knative-read-only-root",
        [
            knative("read-only"),
            knative("writable", {f"{C0}.securityContext.readOnlyRootFilesystem": False}),
            knative("unset", {f"{C0}.securityContext": DELETE}),
        ],
        passing={"read-only"},
        failing={"writable", "unset"},
    ),
    case(
        "knative-private-visibility",
        [
            knative("public"),
            knative("private-cluster-local", base=PRIVATE_KNATIVE_SERVICE),
            knative("private-exposed", {"metadata.labels.access": "private"}),
            knative("unlabelled", {"metadata.labels": DELETE}),
        ],
        passing={"public", "private-cluster-local"},
        failing={"private-exposed", "unlabelled"},
    ),
]
