"""The rules on what the program really declares: every shipped stack passes, and a render made
insecure on purpose is rejected with exactly the expected violations."""

from __future__ import annotations

import pytest
from policy_helpers import CLUSTER, DIGEST, NODE_POOL, render_resources
from policy_insecure import EXPECTED_INSECURE, insecure_render

from infra.settings import stack_files
from policy.catalog import RULES
from policy.rule import Level, Resource, evaluate

SHIPPED = stack_files.available_stacks()


def found(resources: list[Resource]) -> set[tuple[str, str, str]]:
    return {(str(v.level), v.rule, v.resource) for v in evaluate(RULES, resources)}


def mandatory(resources: list[Resource]) -> list[str]:
    return [v.line() for v in evaluate(RULES, resources) if v.level is Level.MANDATORY]


@pytest.mark.parametrize("stack", SHIPPED)
def test_every_shipped_stack_has_no_mandatory_violation(stack):
    assert mandatory(render_resources(stack)) == []


def test_the_cloud_run_stacks_report_exactly_what_is_expected():
    assert found(render_resources("dev")) == set()
    # prod is private (IAM-only) but reachable from the internet: advised, not enforced.
    assert found(render_resources("prod")) == {("advisory", "cloudrun-private-ingress", "qa-service")}


@pytest.mark.parametrize(
    "overrides",
    [
        {"public": "false", "ingress": "internal", "builder": "cloudbuild"},
        {"image": f"europe-docker.pkg.dev/p/r/qa@{DIGEST}", "deletionProtection": "true"},
        {"gpu": "nvidia-l4", "runtime": "torch", "cpu": "4", "memory": "16Gi", "cpuAlwaysAllocated": "true"},
    ],
    ids=["private-cloudbuild", "prebuilt-image", "gpu"],
)
def test_the_programs_own_options_stay_compliant(overrides):
    assert found(render_resources("dev", **overrides)) == set()


@pytest.mark.skipif("gke" not in SHIPPED, reason="no Pulumi.gke.yaml (Knative/GKE stack) yet")
def test_the_gke_stack_passes_every_gke_rule_on_a_real_cluster_and_node_pool():
    resources = render_resources("gke")
    types = {r.type for r in resources}
    assert {CLUSTER, NODE_POOL} <= types, "the gke stack declares a cluster and a node pool"
    assert {v for v in found(resources) if v[1].startswith("gke-")} == set()


def test_an_insecure_rendering_yields_exactly_the_expected_violations():
    resources = [Resource.of(r) for r in insecure_render()]
    violations = evaluate(RULES, resources)
    assert {(str(v.level), v.rule, v.resource) for v in violations} == EXPECTED_INSECURE
    assert len(violations) == len(EXPECTED_INSECURE), "one violation per problem"
