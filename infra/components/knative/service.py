"""The model as a Knative Service: the one `ModelServiceSpec` rendered by
`manifests.knative_service_manifest`, in its own namespace, with a Kubernetes service account
bound by Workload Identity to the runtime service account."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from infra import components
from infra.components import child_options, type_token
from infra.components.knative.manifests import (
    POD_SECURITY_LABELS,
    WORKLOAD_IDENTITY_ANNOTATION,
    knative_service_manifest,
    network_policy_spec,
)
from infra.components.knative.resource import KnativeServiceResource
from infra.components.rollout import content_revision, rollout_phase, service_outputs
from infra.rollout.traffic import CANDIDATE_TAG, RolloutArgs, knative_traffic, tag_url
from infra.spec import ModelServiceSpec

SERVICE_TIMEOUTS = pulumi.CustomTimeouts(create="30m", update="30m", delete="10m")


@dataclass(frozen=True)
class KnativeModelServiceArgs:
    spec: ModelServiceSpec
    provider: k8s.Provider
    namespace: str
    gateway_namespace: str
    service_account_email: pulumi.Input[str]  # the runtime GCP service account
    service_account_name: pulumi.Input[str]  # its resource name, projects/P/serviceAccounts/EMAIL
    workload_pool: pulumi.Input[str]  # PROJECT.svc.id.goog, from the cluster
    public: bool
    initial_scale: int
    target: int = 0
    # Knative autoscaling annotations the stack set, (name without prefix, value): scale-down-delay…
    autoscaling: tuple[tuple[str, str], ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    rollout: RolloutArgs = field(default_factory=RolloutArgs)
    extra_ingress: tuple[dict[str, Any], ...] = ()  # NetworkPolicy rules beyond Knative's own


class KnativeModelService(pulumi.ComponentResource):
    """The model as a Knative Service in its own namespace, running as the runtime identity."""

    namespace: k8s.core.v1.Namespace
    service_account: k8s.core.v1.ServiceAccount
    service: KnativeServiceResource
    url: pulumi.Output[str]
    service_name: pulumi.Output[str]
    latest_revision: pulumi.Output[str]
    new_revision: pulumi.Output[str]  # spec.template.metadata.name
    serving_revision: pulumi.Output[str]
    candidate_revision: pulumi.Output[str]
    candidate_percent: pulumi.Output[int]
    previous_revision: pulumi.Output[str]
    candidate_url: pulumi.Output[str]

    def __init__(self, name: str, args: KnativeModelServiceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(type_token("KnativeModelService"), name, None, opts)
        child = child_options(self, opts)

        def kube(*after: pulumi.Resource, **extra: Any) -> pulumi.ResourceOptions:
            return components.kube(child, args.provider, *after, **extra)

        spec = args.spec
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={"name": args.namespace, "labels": {**args.labels, **POD_SECURITY_LABELS}},
            opts=kube(),
        )
        namespace = self.namespace.metadata.name  # an Output: objects in it wait for it
        self.service_account = k8s.core.v1.ServiceAccount(
            f"{name}-account",
            metadata={
                "name": spec.name,
                "namespace": namespace,
                "labels": dict(args.labels),
                "annotations": {WORKLOAD_IDENTITY_ANNOTATION: args.service_account_email},
            },
            automount_service_account_token=False,
            opts=kube(),
        )
        # Workload Identity: this Kubernetes service account may act as the runtime identity.
        binding = gcp.serviceaccount.IAMMember(
            f"{name}-workload-identity",
            service_account_id=args.service_account_name,
            role="roles/iam.workloadIdentityUser",
            member=pulumi.Output.concat(
                "serviceAccount:", args.workload_pool, "[", args.namespace, "/", spec.name, "]"
            ),
            opts=child,
        )
        policy = k8s.networking.v1.NetworkPolicy(
            f"{name}-network-policy",
            metadata={"name": f"{spec.name}-ingress", "namespace": namespace, "labels": dict(args.labels)},
            spec=network_policy_spec(args.namespace, args.gateway_namespace, args.extra_ingress),
            opts=kube(),
        )
        # The knobs join the revision's name only when set: unset, existing revisions keep theirs.
        knobs = {"autoscaling": dict(args.autoscaling)} if args.autoscaling else {}
        self.new_revision = content_revision(
            spec, platform="knative", initial_scale=args.initial_scale, target=args.target, **knobs
        )
        phase = rollout_phase(args.rollout, self.new_revision)
        manifest = knative_service_manifest(
            spec,
            namespace=args.namespace,
            service_account=spec.name,
            public=args.public,
            initial_scale=args.initial_scale,
            target=args.target,
            autoscaling=args.autoscaling,
            labels=args.labels,
            revision=self.new_revision,
            traffic=phase.apply(lambda p: knative_traffic(p.targets)),
        )
        self.service = KnativeServiceResource(
            f"{name}-service",
            api_version=manifest["apiVersion"],
            kind=manifest["kind"],
            metadata=manifest["metadata"],
            spec=manifest["spec"],
            opts=kube(
                self.namespace, self.service_account, binding, policy, custom_timeouts=SERVICE_TIMEOUTS
            ),
        )
        status = self.service.status
        self.url = status.apply(lambda s: (s or {}).get("url"))
        self.service_name = pulumi.Output.from_input(spec.name)
        self.latest_revision = status.apply(lambda s: (s or {}).get("latestReadyRevisionName"))
        self.serving_revision = phase.apply(lambda p: p.serving)
        self.candidate_revision = phase.apply(lambda p: p.candidate)
        self.candidate_percent = phase.apply(lambda p: p.candidate_percent)
        self.previous_revision = phase.apply(lambda p: p.previous)
        self.candidate_url = status.apply(lambda s: tag_url((s or {}).get("traffic"), CANDIDATE_TAG, "url"))
        self.register_outputs(service_outputs(self))
