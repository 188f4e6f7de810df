"""A hardened GKE Standard cluster for the Knative path, and the Kubernetes provider bound to it.

What makes it hardened, each a field the policy pack can check in the render: its own VPC-native
network (nodes optionally without public IPs, egress through Cloud NAT), Workload Identity with the
GKE metadata server, shielded COS-containerd nodes (secure boot, integrity monitoring), Dataplane
V2 (network policy enforced), a release channel with auto-repair/upgrade, a node service account
that may only write logs/metrics and read images, legacy ABAC, client certificates, anonymous
RBAC bindings and Service external IPs off, optional master authorized networks.
"""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from infra.components import child_options, type_token
from infra.components.gke.config import (
    CLUSTER_TIMEOUTS,
    GPU_TAINT,
    MAINTENANCE_START,
    NODE_POOL_TIMEOUTS,
    NODE_ROLES,
    PODS_RANGE,
    SERVICES_RANGE,
    GkeClusterArgs,
    kubeconfig,
    node_config,
)
from infra.components.gke.network import declare_network

container = gcp.container


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
        self.network, self.subnet = declare_network(name, args, child)
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
            node_config=node_config(
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
            node_config=node_config(
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
                enable_components=list(args.monitoring_components),
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
            node_config=node_config(
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
