"""GKE node hardening, per node pool: metadata server, Shielded VM options, service account,
image type, auto-repair and auto-upgrade."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from policy.rule import Level, Rule
from policy.rules.gke_pools import BOTH, autopilot, pools
from policy.values import get, is_default_service_account, is_false, is_true, is_unknown


def _metadata_server(resource_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    for pool in pools(resource_type, inputs):
        mode = get(pool.node_config, "workloadMetadataConfig.mode")
        if is_unknown(mode) or mode == "GKE_METADATA":
            continue
        shown = "unset" if mode is None else mode
        yield f"{pool.where} has workloadMetadataConfig.mode {shown}, not GKE_METADATA"


def _secure_boot_integrity(resource_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    for pool in pools(resource_type, inputs):
        shielded = get(pool.node_config, "shieldedInstanceConfig")
        if is_unknown(shielded):
            continue
        secure_boot = get(shielded, "enableSecureBoot")
        if not is_unknown(secure_boot) and not is_true(secure_boot):
            # Secure Boot defaults to false on GKE nodes: it must be asked for.
            yield f"{pool.where} does not enable Secure Boot"
        if is_false(get(shielded, "enableIntegrityMonitoring")):
            yield f"{pool.where} disables integrity monitoring"


def _service_account(resource_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    mode = autopilot(inputs)
    if is_unknown(mode):
        return
    scaling = get(inputs, "clusterAutoscaling.enabled")
    if mode is True or is_true(scaling):
        # Autopilot and node auto-provisioning create nodes from these defaults.
        account = get(inputs, "clusterAutoscaling.autoProvisioningDefaults.serviceAccount")
        yield from _judge_account("node auto-provisioning", account)
    for pool in pools(resource_type, inputs):
        yield from _judge_account(pool.where, get(pool.node_config, "serviceAccount"))


def _judge_account(where: str, account: Any) -> Iterator[str]:
    if is_unknown(account):
        return
    if account is None or account == "":
        yield f"{where} runs its nodes as the Compute Engine default account (serviceAccount unset)"
    elif is_default_service_account(account):
        yield f"{where} runs its nodes as the default account {account!r}"


def _image_type(resource_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    for pool in pools(resource_type, inputs):
        image = get(pool.node_config, "imageType")
        # Unset is GKE's default, COS_CONTAINERD.
        if isinstance(image, str) and image.upper() != "COS_CONTAINERD":
            yield f"{pool.where} uses image type {image}"


def _management(field: str, what: str):
    def check(resource_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
        for pool in pools(resource_type, inputs):
            # Unset is enabled: pulumi-gcp turns both on by default.
            if is_false(get(pool.management, field)):
                yield f"{pool.where} sets management.{field} false, turning off {what}"

    return check


RULES = [
    Rule(
        name="gke-metadata-server",
        level=Level.MANDATORY,
        what="Every GKE node pool sets workloadMetadataConfig.mode = GKE_METADATA.",
        why=(
            "Without the GKE metadata server, pods read the node's metadata — its service account "
            "token and kubelet credentials — and Workload Identity does not apply to them."
        ),
        fix=(
            "set node_config.workload_metadata_config.mode to GKE_METADATA (needs Workload Identity on the "
            "cluster)"
        ),
        ids=("CKV_GCP_69", "AVD-GCP-0057", "CIS GKE 5.4.1"),
        types=BOTH,
        check=_metadata_server,
    ),
    Rule(
        name="gke-secure-boot-integrity",
        level=Level.MANDATORY,
        what="GKE node pools enable Secure Boot and keep integrity monitoring on (Shielded VM).",
        why=(
            "They stop and detect boot-level rootkits on the nodes that hold every pod's "
            "secrets; Secure Boot is off unless asked for."
        ),
        fix=(
            "set node_config.shielded_instance_config enable_secure_boot=True, "
            "enable_integrity_monitoring=True"
        ),
        ids=("CKV_GCP_68", "CKV_GCP_72", "CIS GKE 5.5.6", "CIS GKE 5.5.7"),
        types=BOTH,
        check=_secure_boot_integrity,
    ),
    Rule(
        name="gke-dedicated-node-service-account",
        level=Level.MANDATORY,
        what="GKE nodes run as a dedicated service account, not the Compute Engine default.",
        why=(
            "Every pod can reach the node's credentials; with the default account (Editor on the "
            "project) a container escape becomes project takeover."
        ),
        fix=(
            "create a node service account with roles/logging.logWriter, roles/monitoring.metricWriter, "
            "roles/monitoring.viewer and roles/artifactregistry.reader, and set node_config.service_account"
        ),
        ids=("AVD-GCP-0050", "CIS GKE 5.2.1"),
        types=BOTH,
        check=_service_account,
    ),
    Rule(
        name="gke-cos-containerd",
        level=Level.MANDATORY,
        what="GKE node pools use the Container-Optimized OS image with containerd (COS_CONTAINERD).",
        why=(
            "COS is minimal, read-only and patched by Google; other images widen the node's "
            "attack surface and Docker-based images are gone from current GKE."
        ),
        fix="set node_config.image_type to COS_CONTAINERD (or leave it unset)",
        ids=("CKV_GCP_22", "AVD-GCP-0054", "CIS GKE 5.5.1"),
        types=BOTH,
        check=_image_type,
    ),
    Rule(
        name="gke-node-auto-repair",
        level=Level.MANDATORY,
        what="GKE node pools keep auto-repair on.",
        why="Unhealthy nodes are recreated instead of silently serving (or not serving) the model.",
        fix="remove management.auto_repair=False (or set it to True)",
        ids=("CKV_GCP_9", "AVD-GCP-0063", "CIS GKE 5.5.2"),
        types=BOTH,
        check=_management("autoRepair", "automatic node repair"),
    ),
    Rule(
        name="gke-node-auto-upgrade",
        level=Level.MANDATORY,
        what="GKE node pools keep auto-upgrade on.",
        why=(
            "Nodes get security patches with the control plane; release channels require it, "
            "and a skipped upgrade leaves known CVEs on the nodes."
        ),
        fix="remove management.auto_upgrade=False (or set it to True)",
        ids=("CKV_GCP_10", "AVD-GCP-0058", "CIS GKE 5.5.3"),
        types=BOTH,
        check=_management("autoUpgrade", "automatic node upgrades"),
    ),
]
