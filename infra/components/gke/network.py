"""The Knative cluster's network: a VPC of its own, VPC-native ranges, NAT for private nodes."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from infra.components.gke.config import (
    NODES_CIDR,
    PODS_CIDR,
    PODS_RANGE,
    SERVICES_CIDR,
    SERVICES_RANGE,
    GkeClusterArgs,
)


def declare_network(
    name: str, args: GkeClusterArgs, opts: pulumi.ResourceOptions
) -> tuple[gcp.compute.Network, gcp.compute.Subnetwork]:
    """The cluster's own VPC and node subnet (with pod and service ranges), and Cloud NAT for
    private nodes."""
    network = gcp.compute.Network(
        f"{name}-network",
        project=args.project,
        name=f"{args.cluster_name}-net",
        auto_create_subnetworks=False,
        routing_mode="REGIONAL",
        description="VPC of the Knative cluster (managed by Pulumi)",
        opts=opts,
    )
    subnet = gcp.compute.Subnetwork(
        f"{name}-subnet",
        project=args.project,
        name=f"{args.cluster_name}-nodes",
        region=args.region,
        network=network.id,
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
        return network, subnet
    # Private nodes have no public IP: Knative's and Kourier's images (gcr.io, docker.io)
    # come through Cloud NAT.
    router = gcp.compute.Router(
        f"{name}-router",
        project=args.project,
        name=f"{args.cluster_name}-router",
        region=args.region,
        network=network.id,
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
            gcp.compute.RouterNatSubnetworkArgs(name=subnet.id, source_ip_ranges_to_nats=["ALL_IP_RANGES"])
        ],
        log_config=gcp.compute.RouterNatLogConfigArgs(enable=True, filter="ERRORS_ONLY"),
        opts=opts,
    )
    return network, subnet
