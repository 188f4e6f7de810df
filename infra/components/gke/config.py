"""What the GKE cluster is made of: its args, the node settings every pool shares, the address
plan, and the credential-free kubeconfig the Kubernetes provider uses."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from infra import limits

container = gcp.container

# Exactly what a node needs: ship logs and metrics, read images (docs: "Use least privilege
# Google service accounts" in GKE hardening). Never the Compute Engine default account (Editor).
NODE_ROLES = (
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/monitoring.viewer",
    "roles/stackdriver.resourceMetadata.writer",
    "roles/artifactregistry.reader",
)
NODE_IMAGE = "COS_CONTAINERD"
NODE_DISK_GB = 50  # the model image is a few GB; pd-balanced at 50 GB pulls it without stalling
NODE_DISK_TYPE = "pd-balanced"
# Access is decided by the node service account's IAM roles; the scope only has to allow them.
NODE_SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
GPU_TAINT = (limits.GPU_RESOURCE, "present", "NO_SCHEDULE")
# The cluster's own address plan, inside its own VPC: nothing else to collide with.
NODES_CIDR = "10.10.0.0/20"
PODS_RANGE, PODS_CIDR = "pods", "10.16.0.0/14"
SERVICES_RANGE, SERVICES_CIDR = "services", "10.20.0.0/20"
MAINTENANCE_START = "03:00"  # UTC; release-channel upgrades land in this window
AUTH_PLUGIN_HINT = (
    "gke-gcloud-auth-plugin authenticates to GKE: gcloud components install gke-gcloud-auth-plugin"
)
CLUSTER_TIMEOUTS = pulumi.CustomTimeouts(create="45m", update="60m", delete="45m")
NODE_POOL_TIMEOUTS = pulumi.CustomTimeouts(create="30m", update="45m", delete="30m")


@dataclass(frozen=True)
class GkeClusterArgs:
    project: str
    region: str
    location: str  # a zone (zonal cluster) or the region (regional)
    cluster_name: str
    release_channel: str
    machine_type: str
    min_nodes: int
    max_nodes: int
    private_nodes: bool
    master_authorized_networks: Sequence[str] = ()
    gpu_machine_type: str = ""
    gpu_max_nodes: int = 0  # 0: no GPU pool
    gpu_type: str = limits.GPU_TYPES[0]
    deletion_protection: bool = True
    labels: dict[str, str] = field(default_factory=dict)
    # What Cloud Monitoring collects from the cluster; "POD" adds kube-state-metrics' pod metrics
    # (restarts, termination reasons, phases), which the Knative alert policies query.
    monitoring_components: Sequence[str] = ("SYSTEM_COMPONENTS",)

    @property
    def gpus_per_node(self) -> int:
        """Every GPU a gpu_machine_type node has: a G2 machine comes with a fixed number of L4s,
        and the settings checks count pods per node from the same machine type."""
        machine = limits.parse_machine_type(self.gpu_machine_type)
        return machine.l4_gpus if machine else 0


def kubeconfig(cluster_name: str, endpoint: str, ca_certificate: str) -> str:
    """A kubeconfig for the Kubernetes provider: no credentials in it (so nothing secret in state);
    gke-gcloud-auth-plugin gets a short-lived token from whoever runs Pulumi."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": cluster_name,
                "cluster": {
                    "server": f"https://{endpoint}",
                    "certificate-authority-data": ca_certificate,
                },
            }
        ],
        "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
        "current-context": cluster_name,
        "users": [
            {
                "name": cluster_name,
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": "gke-gcloud-auth-plugin",
                        "installHint": AUTH_PLUGIN_HINT,
                        "provideClusterInfo": True,
                        "interactiveMode": "Never",
                    }
                },
            }
        ],
    }
    return json.dumps(config, sort_keys=True)


def node_config(
    args_type,
    *,
    machine_type: str,
    service_account: pulumi.Input[str],
    labels: dict[str, str],
    **extra,
):
    """Node settings shared by every pool (and the cluster's short-lived default pool)."""
    prefix = args_type.__name__.removesuffix("Args")
    return args_type(
        machine_type=machine_type,
        image_type=NODE_IMAGE,
        disk_type=NODE_DISK_TYPE,
        disk_size_gb=NODE_DISK_GB,
        service_account=service_account,
        oauth_scopes=list(NODE_SCOPES),
        shielded_instance_config=getattr(container, f"{prefix}ShieldedInstanceConfigArgs")(
            enable_secure_boot=True, enable_integrity_monitoring=True
        ),
        # Pods see the GKE metadata server (Workload Identity), never the node's credentials.
        workload_metadata_config=getattr(container, f"{prefix}WorkloadMetadataConfigArgs")(
            mode="GKE_METADATA"
        ),
        metadata={"disable-legacy-endpoints": "true"},
        resource_labels=labels,
        **extra,
    )
