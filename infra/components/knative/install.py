"""Knative Serving at a pinned release on the GKE cluster, tuned for a CPU-bound model.

`KnativeInstall` applies the release manifests in order (CRDs → core → networking layer), then
patches Knative's ConfigMaps with what `manifests` builds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from infra import components
from infra.components import child_options, type_token
from infra.components.knative.manifests import (
    SERVING_NAMESPACE,
    config_domain,
    config_network,
    release_manifests,
)
from infra.ingresses import KNATIVE_INGRESSES

# Generous: the first revision pulls a multi-GB image onto a node the autoscaler may still be adding.
INSTALL_TIMEOUTS = pulumi.CustomTimeouts(create="20m", update="20m", delete="10m")


@dataclass(frozen=True)
class KnativeInstallArgs:
    provider: k8s.Provider
    project: str
    region: str
    version: str
    ingress: str  # a key of KNATIVE_INGRESSES
    ingress_class: str
    domain: str
    magic_dns: bool
    address_name: str
    autoscaler: Mapping[str, str]
    defaults: Mapping[str, str]
    features: Mapping[str, str] = field(default_factory=dict)


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
            return components.kube(child, args.provider, *after, **extra)

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
        layer = KNATIVE_INGRESSES[args.ingress]
        gateway_ip = k8s.core.v1.ServicePatch(
            f"{name}-{args.ingress}-address",
            metadata={"name": layer.gateway_service, "namespace": layer.gateway_namespace},
            spec={"loadBalancerIP": self.address.address},
            opts=kube(self.networking),
        )
        self.resources = [self.crds, self.core, self.networking, *patches, gateway_ip]
        self.register_outputs({"ingress_ip": self.ingress_ip, "domain": self.domain})
