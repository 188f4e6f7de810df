"""GKE cluster-wide settings: identity, Shielded Nodes, upgrades, authentication, logging and
monitoring, network policy, private nodes."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from infra.limits import GKE_RELEASE_CHANNELS
from policy import tokens
from policy.rule import Level, Rule
from policy.rules.gke_pools import BOTH, CLUSTER, autopilot
from policy.values import get, is_false, is_true, is_unknown, strings

# The channels GKE offers, declared once with the stack settings that choose one.
CHANNELS = GKE_RELEASE_CHANNELS


def _workload_identity(_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    mode, pool = autopilot(inputs), get(inputs, "workloadIdentityConfig.workloadPool")
    if is_unknown(mode) or mode is True or is_unknown(pool):
        return  # Autopilot always has Workload Identity
    if not (isinstance(pool, str) and pool):
        yield "workloadIdentityConfig.workloadPool is unset, so Workload Identity is off"


def _shielded_nodes(_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    # Unset is on: pulumi-gcp defaults enable_shielded_nodes to true.
    if is_false(get(inputs, "enableShieldedNodes")):
        yield "enableShieldedNodes is false"


def _release_channel(_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    channel = get(inputs, "releaseChannel.channel")
    if is_unknown(channel) or channel in CHANNELS:
        return
    yield f"releaseChannel.channel is {'unset' if channel is None else channel}"


def _legacy_abac(_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    if is_true(get(inputs, "enableLegacyAbac")):
        yield "enableLegacyAbac is true"


def _client_certificate(_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    if is_true(get(inputs, "masterAuth.clientCertificateConfig.issueClientCertificate")):
        yield "masterAuth issues a client certificate"


def _components(inputs: Mapping[str, Any], path: str, required: tuple[str, ...]) -> Iterator[str]:
    components = get(inputs, path)
    if not isinstance(components, list):
        return  # unset (GKE's defaults collect them) or unknown
    if any(is_unknown(c) for c in components):
        return
    present = set(strings(components))
    missing = [c for c in required if c not in present]
    if missing:
        yield f"{path} leaves out {', '.join(missing)}"


def _logging(_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    if get(inputs, "loggingService") == "none":
        yield "loggingService is none"
    yield from _components(inputs, "loggingConfig.enableComponents", ("SYSTEM_COMPONENTS", "WORKLOADS"))


def _monitoring(_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    if get(inputs, "monitoringService") == "none":
        yield "monitoringService is none"
    yield from _components(inputs, "monitoringConfig.enableComponents", ("SYSTEM_COMPONENTS",))


def _network_policy(_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    mode, enabled, datapath = (
        autopilot(inputs),
        get(inputs, "networkPolicy.enabled"),
        get(inputs, "datapathProvider"),
    )
    if any(is_unknown(v) for v in (mode, enabled, datapath)):
        return
    # Autopilot always runs Dataplane V2, which enforces NetworkPolicy itself.
    if mode is True or is_true(enabled) or datapath == "ADVANCED_DATAPATH":
        return
    yield "neither networkPolicy.enabled nor Dataplane V2 (datapathProvider ADVANCED_DATAPATH) is on"


def _private_nodes(resource_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    if resource_type == tokens.GKE_NODE_POOL:
        # Unset inherits the cluster's setting, which the cluster's own check covers.
        if is_false(get(inputs, "networkConfig.enablePrivateNodes")):
            yield "the node pool sets networkConfig.enablePrivateNodes false"
        return
    private = get(inputs, "privateClusterConfig.enablePrivateNodes")
    if not is_unknown(private) and not is_true(private):
        yield "privateClusterConfig.enablePrivateNodes is not true, so nodes get public IPs"


RULES = [
    Rule(
        name="gke-workload-identity",
        level=Level.MANDATORY,
        what="GKE clusters enable Workload Identity (workloadIdentityConfig.workloadPool).",
        why=(
            "Pods then get their own short-lived Google identity instead of the node's account, "
            "and no service account keys have to be mounted as Kubernetes secrets."
        ),
        fix='set workload_identity_config.workload_pool to "PROJECT_ID.svc.id.goog"',
        ids=("CIS GKE 5.2.2",),
        types=CLUSTER,
        check=_workload_identity,
    ),
    Rule(
        name="gke-shielded-nodes",
        level=Level.MANDATORY,
        what="GKE clusters keep Shielded GKE Nodes on (enableShieldedNodes).",
        why=(
            "Shielded nodes prove their identity to the control plane, so a compromised pod or VM "
            "cannot impersonate a node and read its pods' secrets."
        ),
        fix="remove enable_shielded_nodes=False (it defaults to true)",
        ids=("CKV_GCP_71", "AVD-GCP-0055", "CIS GKE 5.5.5"),
        types=CLUSTER,
        check=_shielded_nodes,
    ),
    Rule(
        name="gke-release-channel",
        level=Level.MANDATORY,
        what=(
            f"GKE clusters are enrolled in a release channel ({', '.join(CHANNELS[:-1])} or {CHANNELS[-1]})."
        ),
        why=(
            "Google then upgrades the control plane and nodes with security patches; without a "
            "channel versions drift until they fall out of support."
        ),
        fix='set release_channel.channel, e.g. "REGULAR"',
        ids=("CKV_GCP_70", "CIS GKE 5.5.4"),
        types=CLUSTER,
        check=_release_channel,
    ),
    Rule(
        name="gke-legacy-abac-disabled",
        level=Level.MANDATORY,
        what="GKE clusters keep legacy ABAC authorization off.",
        why="ABAC grants broad, static permissions that bypass RBAC; RBAC is the only reviewable model.",
        fix="remove enable_legacy_abac=True",
        ids=("CKV_GCP_7", "AVD-GCP-0062", "CIS GKE 5.8.3"),
        types=CLUSTER,
        check=_legacy_abac,
    ),
    Rule(
        name="gke-client-certificate-disabled",
        level=Level.MANDATORY,
        what="GKE clusters do not issue a client certificate (masterAuth).",
        why=(
            "The certificate is a non-revocable cluster-admin credential stored in state; IAM "
            "(gcloud / Workload Identity) authenticates instead."
        ),
        fix=(
            "set master_auth.client_certificate_config.issue_client_certificate=False (or leave master_auth"
            " out)"
        ),
        ids=("CKV_GCP_13", "AVD-GCP-0064", "CIS GKE 5.8.1"),
        types=CLUSTER,
        check=_client_certificate,
    ),
    Rule(
        name="gke-logging-enabled",
        level=Level.MANDATORY,
        what="GKE clusters send system and workload logs to Cloud Logging.",
        why=(
            "Without them there is no audit trail of what ran on the cluster and no service logs to debug "
            "from."
        ),
        fix=(
            'leave logging_service at its default (or "logging.googleapis.com/kubernetes"); include '
            "SYSTEM_COMPONENTS and WORKLOADS"
        ),
        ids=("CKV_GCP_1", "AVD-GCP-0060", "CIS GKE 5.7.1"),
        types=CLUSTER,
        check=_logging,
    ),
    Rule(
        name="gke-monitoring-enabled",
        level=Level.MANDATORY,
        what="GKE clusters send system metrics to Cloud Monitoring.",
        why="Node and pod metrics are what alerts, autoscaling decisions and incident review work from.",
        fix=(
            'leave monitoring_service at its default (or "monitoring.googleapis.com/kubernetes"); include '
            "SYSTEM_COMPONENTS"
        ),
        ids=("CKV_GCP_8", "AVD-GCP-0052", "CIS GKE 5.7.1"),
        types=CLUSTER,
        check=_monitoring,
    ),
    Rule(
        name="gke-network-policy",
        level=Level.MANDATORY,
        what="GKE clusters enforce Kubernetes NetworkPolicy (network policy add-on or Dataplane V2).",
        why=(
            "Without enforcement every pod can reach every other (Knative's control plane included) "
            "and NetworkPolicy objects are silently ignored."
        ),
        fix='set datapath_provider="ADVANCED_DATAPATH" (Dataplane V2), or network_policy.enabled=True',
        ids=("CKV_GCP_12", "AVD-GCP-0056"),
        types=CLUSTER,
        check=_network_policy,
    ),
    Rule(
        name="gke-private-nodes",
        level=Level.ADVISORY,
        what="GKE nodes have only private IPs (privateClusterConfig.enablePrivateNodes).",
        why=(
            "Nodes with public IPs are reachable from the internet on any port a firewall rule "
            "leaves open; private nodes reach out through Cloud NAT instead."
        ),
        fix=(
            "set private_cluster_config.enable_private_nodes=True (with a master CIDR, and Cloud NAT for "
            "egress)"
        ),
        ids=("CKV_GCP_64", "AVD-GCP-0059", "CIS GKE 5.6.5"),
        types=BOTH,
        check=_private_nodes,
    ),
]
