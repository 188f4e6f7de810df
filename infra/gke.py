"""A hardened GKE Standard cluster for the Knative path, and the Kubernetes provider bound to it.

What makes it hardened, each a field the policy pack can check in the render: its own VPC-native
network (nodes optionally without public IPs, egress through Cloud NAT), Workload Identity with the
GKE metadata server, shielded COS-containerd nodes (secure boot, integrity monitoring), Dataplane
V2 (network policy enforced), a release channel with auto-repair/upgrade, a node service account
that may only write logs/metrics and read images, legacy ABAC, client certificates, anonymous
RBAC bindings and Service external IPs off, optional master authorized networks.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from infra import child_options, type_token
from infra.settings import Settings

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
GPU_TAINT = ("nvidia.com/gpu", "present", "NO_SCHEDULE")
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
    gpu_type: str = "nvidia-l4"
    gpus_per_node: int = 1
    deletion_protection: bool = True
    labels: dict[str, str] = field(default_factory=dict)


def cluster_args(settings: Settings, gpus_per_node: int = 1) -> GkeClusterArgs:
    """The cluster a knative stack asks for (settings are validated already)."""
    name = settings.service.name
    gke = settings.gke
    return GkeClusterArgs(
        project=settings.project,
        region=settings.region,
        location=gke.location,
        cluster_name=f"{name[:32].rstrip('-')}-cluster",  # GKE: at most 40 characters
        release_channel=gke.release_channel,
        machine_type=gke.machine_type,
        min_nodes=gke.min_nodes,
        max_nodes=gke.max_nodes,
        private_nodes=gke.private_nodes,
        master_authorized_networks=gke.master_authorized_networks,
        gpu_machine_type=gke.gpu_machine_type,
        gpu_max_nodes=gke.gpu_max_nodes if settings.service.gpu else 0,
        gpu_type=settings.service.gpu or "nvidia-l4",
        gpus_per_node=gpus_per_node,
        deletion_protection=settings.deletion_protection,
        labels=settings.labels,
    )


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


def _node_config(
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


class GkeCluster(pulumi.ComponentResource):
    """Cluster + node pool(s) + node identity + network; `provider` deploys into it."""

    network: gcp.compute.Network
    subnet: gcp.compute.Subnetwork
    node_account: gcp.serviceaccount.Account
    cluster: container.Cluster
    node_pool: container.NodePool
    gpu_node_pool: container.NodePool | None
    provider: k8s.Provider
    cluster_name: pulumi.Output[str]
    location: pulumi.Output[str]
    workload_pool: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    get_credentials: pulumi.Output[str]  # the gcloud line that points kubectl at the cluster

    def __init__(self, name: str, args: GkeClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(type_token("GkeCluster"), name, None, opts)
        child = child_options(self, opts)
        self._network(name, args, child)
        grants = self._node_identity(name, args, child)
        self.cluster = self._cluster(name, args, child)
        # Exists once the first Workload Identity cluster does: bindings to it wait for the cluster.
        self.workload_pool = self.cluster.name.apply(lambda _: f"{args.project}.svc.id.goog")
        after_grants = pulumi.ResourceOptions.merge(
            child,
            pulumi.ResourceOptions(depends_on=grants, custom_timeouts=NODE_POOL_TIMEOUTS),
        )
        self.node_pool = container.NodePool(
            f"{name}-nodes",
            project=args.project,
            cluster=self.cluster.name,
            location=self.cluster.location,
            initial_node_count=1,  # per zone; the autoscaler takes it from there
            autoscaling=container.NodePoolAutoscalingArgs(
                # Whole-pool bounds: the same meaning for a zonal and a regional cluster.
                total_min_node_count=args.min_nodes,
                total_max_node_count=args.max_nodes,
                location_policy="BALANCED",
            ),
            management=container.NodePoolManagementArgs(auto_repair=True, auto_upgrade=True),
            # Surge one node at a time, never take one away first: running pods keep serving.
            upgrade_settings=container.NodePoolUpgradeSettingsArgs(max_surge=1, max_unavailable=0),
            node_config=_node_config(
                container.NodePoolNodeConfigArgs,
                machine_type=args.machine_type,
                service_account=self.node_account.email,
                labels=args.labels,
            ),
            opts=after_grants,
        )
        self.gpu_node_pool = self._gpu_pool(name, args, after_grants) if args.gpu_max_nodes else None
        pools = [p for p in (self.node_pool, self.gpu_node_pool) if p is not None]

        self.cluster_name = self.cluster.name
        self.location = self.cluster.location
        self.endpoint = self.cluster.endpoint
        self.get_credentials = pulumi.Output.concat(
            "gcloud container clusters get-credentials ",
            self.cluster.name,
            " --location ",
            self.cluster.location,
            f" --project {args.project}",
        )
        config = pulumi.Output.all(
            self.cluster.name, self.cluster.endpoint, self.cluster.master_auth.cluster_ca_certificate
        ).apply(lambda v: kubeconfig(v[0], v[1], v[2]))
        # Kubernetes objects wait for the node pools too: Knative's pods need somewhere to run
        # before the provider's await logic can see them ready.
        self.provider = k8s.Provider(
            f"{name}-kubernetes",
            kubeconfig=config,
            enable_server_side_apply=True,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=pools)),
        )
        self.register_outputs(
            {
                "cluster_name": self.cluster_name,
                "location": self.location,
                "endpoint": self.endpoint,
                "workload_pool": self.workload_pool,
                "get_credentials": self.get_credentials,
            }
        )

    def _network(self, name: str, args: GkeClusterArgs, opts: pulumi.ResourceOptions) -> None:
        self.network = gcp.compute.Network(
            f"{name}-network",
            project=args.project,
            name=f"{args.cluster_name}-net",
            auto_create_subnetworks=False,
            routing_mode="REGIONAL",
            description="VPC of the Knative cluster (managed by Pulumi)",
            opts=opts,
        )
        self.subnet = gcp.compute.Subnetwork(
            f"{name}-subnet",
            project=args.project,
            name=f"{args.cluster_name}-nodes",
            region=args.region,
            network=self.network.id,
            ip_cidr_range=NODES_CIDR,
            secondary_ip_ranges=[
                gcp.compute.SubnetworkSecondaryIpRangeArgs(range_name=PODS_RANGE, ip_cidr_range=PODS_CIDR),
                gcp.compute.SubnetworkSecondaryIpRangeArgs(
                    range_name=SERVICES_RANGE, ip_cidr_range=SERVICES_CIDR
                ),
            ],
            # Private nodes still reach Google APIs (Artifact Registry, logging) without NAT.
            private_ip_google_access=True,
            log_config=gcp.compute.SubnetworkLogConfigArgs(
                aggregation_interval="INTERVAL_10_MIN",
                flow_sampling=0.5,
                metadata="INCLUDE_ALL_METADATA",
            ),
            opts=opts,
        )
        if not args.private_nodes:
            return
        # Private nodes have no public IP: Knative's and Kourier's images (gcr.io, docker.io)
        # come through Cloud NAT.
        router = gcp.compute.Router(
            f"{name}-router",
            project=args.project,
            name=f"{args.cluster_name}-router",
            region=args.region,
            network=self.network.id,
            opts=opts,
        )
        gcp.compute.RouterNat(
            f"{name}-nat",
            project=args.project,
            name=f"{args.cluster_name}-nat",
            region=args.region,
            router=router.name,
            nat_ip_allocate_option="AUTO_ONLY",
            source_subnetwork_ip_ranges_to_nat="LIST_OF_SUBNETWORKS",
            subnetworks=[
                gcp.compute.RouterNatSubnetworkArgs(
                    name=self.subnet.id, source_ip_ranges_to_nats=["ALL_IP_RANGES"]
                )
            ],
            log_config=gcp.compute.RouterNatLogConfigArgs(enable=True, filter="ERRORS_ONLY"),
            opts=opts,
        )

    def _node_identity(
        self, name: str, args: GkeClusterArgs, opts: pulumi.ResourceOptions
    ) -> list[pulumi.Resource]:
        self.node_account = gcp.serviceaccount.Account(
            f"{name}-node-account",
            project=args.project,
            account_id=f"{args.cluster_name[:24].rstrip('-')}-nodes",
            display_name=f"{args.cluster_name} GKE nodes",
            description="Identity of the GKE nodes: logs, metrics, image pulls only (managed by Pulumi)",
            opts=opts,
        )
        return [
            gcp.projects.IAMMember(
                f"{name}-node-{role.removeprefix('roles/').replace('.', '-')}",
                project=args.project,
                role=role,
                member=self.node_account.member,
                opts=opts,
            )
            for role in NODE_ROLES
        ]

    def _cluster(self, name: str, args: GkeClusterArgs, opts: pulumi.ResourceOptions) -> container.Cluster:
        authorized = (
            container.ClusterMasterAuthorizedNetworksConfigArgs(
                cidr_blocks=[
                    container.ClusterMasterAuthorizedNetworksConfigCidrBlockArgs(
                        cidr_block=cidr, display_name=f"authorized-{index}"
                    )
                    for index, cidr in enumerate(args.master_authorized_networks)
                ],
                gcp_public_cidrs_access_enabled=False,
            )
            if args.master_authorized_networks
            else None
        )
        return container.Cluster(
            f"{name}-cluster",
            project=args.project,
            name=args.cluster_name,
            location=args.location,
            description="Knative Serving for the question-answering model (managed by Pulumi)",
            deletion_protection=args.deletion_protection,
            resource_labels=args.labels,
            # The default pool cannot be configured well enough; GKE creates it (it must), and it
            # goes as soon as the cluster exists. The pools that run things are NodePools.
            remove_default_node_pool=True,
            initial_node_count=1,
            # ... but while it lives it runs as the dedicated node identity, hardened like the
            # rest; GKE reports later pools here too, hence ignore_changes below.
            node_config=_node_config(
                container.ClusterNodeConfigArgs,
                machine_type=args.machine_type,
                service_account=self.node_account.email,
                labels=args.labels,
            ),
            network=self.network.id,
            subnetwork=self.subnet.id,
            networking_mode="VPC_NATIVE",
            ip_allocation_policy=container.ClusterIpAllocationPolicyArgs(
                cluster_secondary_range_name=PODS_RANGE,
                services_secondary_range_name=SERVICES_RANGE,
            ),
            release_channel=container.ClusterReleaseChannelArgs(channel=args.release_channel),
            maintenance_policy=container.ClusterMaintenancePolicyArgs(
                daily_maintenance_window=container.ClusterMaintenancePolicyDailyMaintenanceWindowArgs(
                    start_time=MAINTENANCE_START
                )
            ),
            workload_identity_config=container.ClusterWorkloadIdentityConfigArgs(
                workload_pool=f"{args.project}.svc.id.goog"
            ),
            # Dataplane V2 (eBPF) enforces NetworkPolicy itself; the Calico add-on stays off.
            datapath_provider="ADVANCED_DATAPATH",
            enable_shielded_nodes=True,
            enable_intranode_visibility=True,
            enable_legacy_abac=False,
            master_auth=container.ClusterMasterAuthArgs(
                client_certificate_config=container.ClusterMasterAuthClientCertificateConfigArgs(
                    issue_client_certificate=False
                )
            ),
            # Nobody gets cluster access just for being authenticated (any Google account) or
            # anonymous; anonymous requests reach only the health endpoints.
            rbac_binding_config=container.ClusterRbacBindingConfigArgs(
                enable_insecure_binding_system_authenticated=False,
                enable_insecure_binding_system_unauthenticated=False,
            ),
            anonymous_authentication_config=container.ClusterAnonymousAuthenticationConfigArgs(
                mode="LIMITED"
            ),
            service_external_ips_config=container.ClusterServiceExternalIpsConfigArgs(enabled=False),
            private_cluster_config=container.ClusterPrivateClusterConfigArgs(
                enable_private_nodes=args.private_nodes,
                # The endpoint stays reachable for Pulumi and kubectl (authenticated; restricted
                # further by master_authorized_networks when set).
                enable_private_endpoint=False,
            ),
            master_authorized_networks_config=authorized,
            addons_config=container.ClusterAddonsConfigArgs(
                http_load_balancing=container.ClusterAddonsConfigHttpLoadBalancingArgs(disabled=False),
                horizontal_pod_autoscaling=container.ClusterAddonsConfigHorizontalPodAutoscalingArgs(
                    disabled=False
                ),
                network_policy_config=container.ClusterAddonsConfigNetworkPolicyConfigArgs(disabled=True),
            ),
            logging_config=container.ClusterLoggingConfigArgs(
                enable_components=["SYSTEM_COMPONENTS", "WORKLOADS"]
            ),
            monitoring_config=container.ClusterMonitoringConfigArgs(
                enable_components=["SYSTEM_COMPONENTS"],
                managed_prometheus=container.ClusterMonitoringConfigManagedPrometheusArgs(enabled=True),
            ),
            opts=pulumi.ResourceOptions.merge(
                opts,
                pulumi.ResourceOptions(
                    custom_timeouts=CLUSTER_TIMEOUTS,
                    ignore_changes=["nodeConfig", "initialNodeCount"],
                ),
            ),
        )

    def _gpu_pool(self, name: str, args: GkeClusterArgs, opts: pulumi.ResourceOptions) -> container.NodePool:
        key, value, effect = GPU_TAINT
        return container.NodePool(
            f"{name}-gpu-nodes",
            project=args.project,
            cluster=self.cluster.name,
            location=self.cluster.location,
            # GPUs are billed by the hour: the pool scales from zero when a model pod asks for one.
            initial_node_count=0,
            autoscaling=container.NodePoolAutoscalingArgs(
                total_min_node_count=0,
                total_max_node_count=args.gpu_max_nodes,
                location_policy="ANY",  # wherever L4 capacity is
            ),
            management=container.NodePoolManagementArgs(auto_repair=True, auto_upgrade=True),
            upgrade_settings=container.NodePoolUpgradeSettingsArgs(max_surge=1, max_unavailable=0),
            node_config=_node_config(
                container.NodePoolNodeConfigArgs,
                machine_type=args.gpu_machine_type,
                service_account=self.node_account.email,
                labels=args.labels,
                guest_accelerators=[
                    container.NodePoolNodeConfigGuestAcceleratorArgs(
                        type=args.gpu_type,
                        count=args.gpus_per_node,
                        # GKE installs and upgrades the NVIDIA driver itself.
                        gpu_driver_installation_config=(
                            container.NodePoolNodeConfigGuestAcceleratorGpuDriverInstallationConfigArgs(
                                gpu_driver_version="LATEST"
                            )
                        ),
                    )
                ],
                # Only pods that tolerate it (the model service) land on a GPU node.
                taints=[container.NodePoolNodeConfigTaintArgs(key=key, value=value, effect=effect)],
            ),
            opts=opts,
        )
