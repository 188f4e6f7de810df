"""Knative networking layers the stack can install: one row per `knativeIngress` value, with all
that the settings (valid values, ingress class), the install (release manifest, gateway Service)
and the model service (gateway namespace, let through its NetworkPolicy) read from it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KnativeIngress:
    ingress_class: str  # config-network's ingress-class
    release_base: str  # where the layer's releases are downloaded from, by Knative version
    manifest: str  # the file in each release that installs it
    gateway_namespace: str  # where its gateway runs (the traffic every caller comes through)
    gateway_service: str  # the gateway's LoadBalancer Service, which gets the stack's address


KNATIVE_INGRESSES = {
    "kourier": KnativeIngress(
        ingress_class="kourier.ingress.networking.knative.dev",
        release_base="https://github.com/knative-extensions/net-kourier/releases/download",
        manifest="kourier.yaml",
        gateway_namespace="kourier-system",
        gateway_service="kourier",
    ),
}
