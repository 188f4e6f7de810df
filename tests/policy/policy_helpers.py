"""Shared helpers for the policy tests: fixture builders, checkov-style judging, cached renders."""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from policy.catalog import BY_NAME
from policy.rule import Resource, Rule, StackRule, check_resource, check_stack, evaluate

DELETE = object()  # `variant(..., {"a.b": DELETE})` removes the key
DIGEST = "sha256:" + "ab" * 32


# --- building fixtures -----------------------------------------------------------------------


def _key(step: str) -> str | int:
    return int(step) if step.isdigit() else step


def set_path(value: Any, path: str, new: Any) -> None:
    """Set (or with DELETE remove) `path` ("template.containers.0.image") inside `value`,
    creating intermediate objects."""
    steps = [_key(s) for s in path.split(".")]
    current = value
    for step in steps[:-1]:
        if isinstance(step, str) and step not in current:
            current[step] = {}
        current = current[step]
    last = steps[-1]
    if new is DELETE:
        del current[last]
    elif isinstance(current, list) and last == len(current):
        current.append(new)  # "envs.4" on a 4-element list adds a fifth
    else:
        current[last] = new


def variant(base: Mapping[str, Any], changes: Mapping[str, Any] | None = None) -> dict[str, Any]:
    inputs = copy.deepcopy(dict(base))
    for path, new in (changes or {}).items():
        set_path(inputs, path, new)
    return inputs


def res(
    resource_type: str,
    name: str,
    inputs: Mapping[str, Any],
    changes: Mapping[str, Any] | None = None,
    parent: str | None = None,
) -> Resource:
    return Resource(resource_type, name, variant(inputs, changes), parent)


CLOUD_RUN = "gcp:cloudrunv2/service:Service"
CLOUD_RUN_IAM_MEMBER = "gcp:cloudrunv2/serviceIamMember:ServiceIamMember"
CLOUD_RUN_IAM_BINDING = "gcp:cloudrunv2/serviceIamBinding:ServiceIamBinding"
CLOUD_RUN_IAM_POLICY = "gcp:cloudrunv2/serviceIamPolicy:ServiceIamPolicy"
PROJECT_IAM_MEMBER = "gcp:projects/iAMMember:IAMMember"
PROJECT_IAM_BINDING = "gcp:projects/iAMBinding:IAMBinding"
PROJECT_IAM_POLICY = "gcp:projects/iAMPolicy:IAMPolicy"
SA_IAM_MEMBER = "gcp:serviceaccount/iAMMember:IAMMember"
BUCKET_IAM_MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember"
SA_KEY = "gcp:serviceaccount/key:Key"
SA_ACCOUNT = "gcp:serviceaccount/account:Account"
REPOSITORY = "gcp:artifactregistry/repository:Repository"
REPOSITORY_IAM_MEMBER = "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember"
REPOSITORY_IAM_BINDING = "gcp:artifactregistry/repositoryIamBinding:RepositoryIamBinding"
PROJECT_SERVICE = "gcp:projects/service:Service"
CLUSTER = "gcp:container/cluster:Cluster"
NODE_POOL = "gcp:container/nodePool:NodePool"
KNATIVE = "kubernetes:serving.knative.dev/v1:Service"

# A Cloud Run v2 service as the program renders it (dev, trimmed): every rule passes on it.
SERVICE: dict[str, Any] = {
    "deletionProtection": False,
    "ingress": "INGRESS_TRAFFIC_ALL",
    "invokerIamDisabled": False,
    "labels": {"access": "public", "app": "qa", "managed-by": "pulumi", "stack": "dev"},
    "location": "us-central1",
    "name": "qa",
    "project": "example-project",
    "template": {
        "containers": [
            {
                "envs": [
                    {"name": "MODEL_ID", "value": "distilbert/distilbert-base-cased-distilled-squad"},
                    {"name": "MAX_TOKENS", "value": "384"},
                    {"name": "TOKENIZERS_PARALLELISM", "value": "false"},
                    {"name": "LOG_LEVEL", "value": "INFO"},
                ],
                "image": f"us-central1-docker.pkg.dev/example-project/qa-images/qa@{DIGEST}",
                "livenessProbe": {"failureThreshold": 3, "httpGet": {"path": "/health", "port": 8080}},
                "name": "model",
                "ports": {"containerPort": 8080, "name": "http1"},
                "resources": {
                    "cpuIdle": True,
                    "limits": {"cpu": "2", "memory": "3Gi"},
                    "startupCpuBoost": True,
                },
                "startupProbe": {
                    "failureThreshold": 40,
                    "httpGet": {"path": "/ready", "port": 8080},
                    "initialDelaySeconds": 0,
                    "periodSeconds": 1,
                    "timeoutSeconds": 1,
                },
            }
        ],
        "executionEnvironment": "EXECUTION_ENVIRONMENT_GEN2",
        "maxInstanceRequestConcurrency": 1,
        "scaling": {"maxInstanceCount": 2, "minInstanceCount": 0},
        "serviceAccount": "qa-runtime@example-project.iam.gserviceaccount.com",
        "timeout": "60s",
    },
    "traffics": [{"percent": 100, "type": "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST"}],
}
PRIVATE_SERVICE = variant(SERVICE, {"labels.access": "private", "ingress": "INGRESS_TRAFFIC_INTERNAL_ONLY"})

# A hardened GKE Standard cluster and node pool, in pulumi-gcp's wire names.
NODE_CONFIG: dict[str, Any] = {
    "imageType": "COS_CONTAINERD",
    "machineType": "e2-standard-4",
    "serviceAccount": "qa-nodes@example-project.iam.gserviceaccount.com",
    "shieldedInstanceConfig": {"enableIntegrityMonitoring": True, "enableSecureBoot": True},
    "workloadMetadataConfig": {"mode": "GKE_METADATA"},
}
GKE_CLUSTER: dict[str, Any] = {
    "datapathProvider": "ADVANCED_DATAPATH",
    "enableLegacyAbac": False,
    "enableShieldedNodes": True,
    "initialNodeCount": 1,
    "location": "us-central1",
    "loggingConfig": {"enableComponents": ["SYSTEM_COMPONENTS", "WORKLOADS"]},
    "masterAuth": {"clientCertificateConfig": {"issueClientCertificate": False}},
    "monitoringConfig": {"enableComponents": ["SYSTEM_COMPONENTS"]},
    "name": "qa-cluster",
    "nodeConfig": NODE_CONFIG,
    "privateClusterConfig": {"enablePrivateNodes": True, "masterIpv4CidrBlock": "172.16.0.0/28"},
    "releaseChannel": {"channel": "REGULAR"},
    "removeDefaultNodePool": True,
    "workloadIdentityConfig": {"workloadPool": "example-project.svc.id.goog"},
}
GKE_NODE_POOL: dict[str, Any] = {
    "cluster": "qa-cluster",
    "location": "us-central1",
    "management": {"autoRepair": True, "autoUpgrade": True},
    "nodeConfig": NODE_CONFIG,
    "nodeCount": 1,
}
AUTOPILOT_CLUSTER: dict[str, Any] = {
    "enableAutopilot": True,
    "location": "us-central1",
    "name": "qa-autopilot",
    "releaseChannel": {"channel": "REGULAR"},
    "clusterAutoscaling": {
        "autoProvisioningDefaults": {"serviceAccount": "qa-nodes@example-project.iam.gserviceaccount.com"}
    },
    "privateClusterConfig": {"enablePrivateNodes": True},
}


# A Knative Service as the GKE path renders it (trimmed), public.
KNATIVE_SERVICE: dict[str, Any] = {
    "apiVersion": "serving.knative.dev/v1",
    "kind": "Service",
    "metadata": {
        "labels": {"access": "public", "app": "qa-gke", "stack": "gke"},
        "name": "qa-gke",
        "namespace": "qa",
    },
    "spec": {
        "template": {
            "spec": {
                "containerConcurrency": 1,
                "containers": [
                    {
                        "env": [
                            {"name": "MODEL_ID", "value": "distilbert/distilbert-base-cased-distilled-squad"}
                        ],
                        "image": f"us-central1-docker.pkg.dev/example-project/qa-gke-images/qa-gke@{DIGEST}",
                        "name": "model",
                        "ports": [{"containerPort": 8080, "name": "http1"}],
                    }
                ],
                "serviceAccountName": "qa-gke",
            }
        }
    },
}
PRIVATE_KNATIVE_SERVICE = variant(
    KNATIVE_SERVICE,
    {"metadata.labels.access": "private"},
)
PRIVATE_KNATIVE_SERVICE["metadata"]["labels"]["networking.knative.dev/visibility"] = "cluster-local"


# --- judging, checkov style ----------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A rule and fixtures, with the exact resource names expected to pass and to fail (and
    those of other types, which the rule must not look at)."""

    rule: str
    resources: tuple[Resource, ...]
    passing: frozenset[str]
    failing: frozenset[str]
    ignored: frozenset[str] = frozenset()

    def __str__(self) -> str:  # pytest ids
        return self.rule


def case(
    rule: str,
    resources: Sequence[Resource],
    *,
    passing: set[str],
    failing: set[str],
    ignored: set[str] | None = None,
) -> Case:
    return Case(rule, tuple(resources), frozenset(passing), frozenset(failing), frozenset(ignored or ()))


def judge(rule_name: str, resources: Sequence[Resource]) -> tuple[set[str], set[str]]:
    """(passing, failing) resource names among those the rule looks at."""
    rule = BY_NAME[rule_name]
    if isinstance(rule, StackRule):
        failing = {v.resource for v in check_stack(rule, resources)}
        looked_at = {r.name for r in resources if r.type in rule.types}
        return looked_at - failing, failing
    assert isinstance(rule, Rule)
    looked_at = [r for r in resources if rule.applies_to(r.type)]
    failing = {r.name for r in looked_at if check_resource(rule, r)}
    return {r.name for r in looked_at} - failing, failing


def violations_of(rule_name: str, resources: Sequence[Resource]) -> list[str]:
    """The violation messages one rule reports (for checking what the messages say)."""
    return [v.message for v in evaluate([BY_NAME[rule_name]], resources)]


# --- substitutions for the unknown / malformed value tests -----------------------------------


def paths(value: Any, prefix: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Every key and list index inside `value` as a tuple of steps (keys may contain dots, as
    Kubernetes label names do), parents before children."""
    if isinstance(value, Mapping):
        items: list[tuple[str | int, Any]] = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    else:
        return
    for key, child in items:
        path = (*prefix, key)
        yield path
        yield from paths(child, path)


def _replaced(value: Any, steps: list[str | int], new: Any) -> Any:
    """`value` with the item at `steps` replaced, copying only the containers on the way."""
    if not steps:
        return new
    head, rest = steps[0], steps[1:]
    copied = list(value) if isinstance(value, list) else dict(value)
    copied[head] = _replaced(value[head], rest, new)
    return copied


def with_value(resource: Resource, path: str | tuple[str | int, ...], new: Any) -> Resource:
    steps = [_key(s) for s in path.split(".")] if isinstance(path, str) else list(path)
    inputs = _replaced(resource.inputs, steps, new)
    return Resource(resource.type, resource.name, inputs, resource.parent)


# --- renders of the shipped stacks (1–2 s each: rendered once per test session) --------------


@functools.cache
def _render_json(stack: str, overrides: tuple[tuple[str, str], ...] = ()) -> str:
    from infra.offline.render import render

    rendering = render(stack, dict(overrides))
    return json.dumps([{k: r[k] for k in ("type", "name", "parent", "inputs")} for r in rendering.resources])


def render_raw(stack: str, **overrides: str) -> list[dict[str, Any]]:
    """A fresh (mutable) copy of the stack's render JSON."""
    return json.loads(_render_json(stack, tuple(sorted(overrides.items()))))


def render_resources(stack: str, **overrides: str) -> list[Resource]:
    return [Resource.of(r) for r in render_raw(stack, **overrides)]


def named(raw: list[dict[str, Any]], name: str) -> dict[str, Any]:
    matches = [r for r in raw if r["name"] == name]
    assert len(matches) == 1, f"{name!r}: {[r['name'] for r in raw]}"
    return matches[0]
