"""Values unknown during `pulumi preview` (and malformed ones) are skipped, never crash a rule.

In a real preview an input computed from another new resource (the runtime account's e-mail,
the image digest, a service name) is unknown; pulumi_policy raises when one is read. The offline
render never has them, so these tests put them everywhere the fixtures have a value.
"""

from __future__ import annotations

import json

import pytest
from policy_cases import ALL_CASES
from policy_helpers import CLOUD_RUN, SERVICE, Case, judge, paths, res, variant, with_value
from pulumi_policy import ResourceValidationArgs
from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    unknown_checking_proxy,
)

from policy.catalog import BY_NAME
from policy.pack import plain, policy
from policy.rule import Resource, StackRule, evaluate
from policy.values import UNKNOWN, UNKNOWN_SENTINELS, get, is_unknown, normalize

# What a preview or a hand-edited render may put where a rule expects something else.
ODD_VALUES = [UNKNOWN, None, 0, "", "x", True, [], {"x": UNKNOWN}]


def substituted(case: Case, odd: object):
    """(changed resource, resources to judge) for `odd` at every path of every fixture. A
    resource rule only needs the changed resource judged; a stack rule needs all of them."""
    stack_rule = isinstance(BY_NAME[case.rule], StackRule)
    for index, resource in enumerate(case.resources):
        for path in paths(resource.inputs):
            changed = with_value(resource, path, odd)
            if stack_rule:
                yield (
                    f"{resource.name}.{path}",
                    [*case.resources[:index], changed, *case.resources[index + 1 :]],
                )
            else:
                yield f"{resource.name}.{path}", [changed]


@pytest.mark.parametrize("case", ALL_CASES, ids=str)
def test_no_rule_crashes_on_unknown_or_malformed_values(case: Case):
    for odd in ODD_VALUES:
        for _where, resources in substituted(case, odd):
            judge(case.rule, resources)  # must not raise


@pytest.mark.parametrize("case", ALL_CASES, ids=str)
def test_an_unknown_value_never_creates_a_violation(case: Case):
    """Replacing any value (or whole object) by UNKNOWN can only take violations away."""
    for where, resources in substituted(case, UNKNOWN):
        _, failing = judge(case.rule, resources)
        assert failing <= case.failing, f"{case.rule}: UNKNOWN at {where}"


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        ("cloudrun-dedicated-service-account", "template.serviceAccount"),
        ("cloudrun-image-by-digest", "template.containers.0.image"),
        ("cloudrun-image-from-artifact-registry", "template.containers"),
        ("cloudrun-max-instances", "template.scaling"),
        ("cloudrun-request-timeout", "template"),
        ("cloudrun-access-label", "labels"),
    ],
)
def test_a_violation_on_an_unknown_value_is_skipped(rule, path):
    bad = {
        "cloudrun-dedicated-service-account": {
            "template.serviceAccount": "1-compute@developer.gserviceaccount.com"
        },
        "cloudrun-image-by-digest": {"template.containers.0.image": "us-docker.pkg.dev/p/r/qa:latest"},
        "cloudrun-image-from-artifact-registry": {"template.containers.0.image": "nginx"},
        "cloudrun-max-instances": {"template.scaling.maxInstanceCount": 0},
        "cloudrun-request-timeout": {"template.timeout": "5m"},
        "cloudrun-access-label": {"labels.access": "nobody-knows"},
    }[rule]
    failing = res(CLOUD_RUN, "svc", SERVICE, bad)
    assert judge(rule, [failing]) == (set(), {"svc"})
    assert judge(rule, [with_value(failing, path, UNKNOWN)]) == ({"svc"}, set())


def test_sentinels_are_pulumi_policys():
    assert {
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_STRING_VALUE,
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_ASSET_VALUE,
        UNKNOWN_ARCHIVE_VALUE,
        UNKNOWN_OBJECT_VALUE,
    } == UNKNOWN_SENTINELS


def test_normalize_and_get_turn_sentinels_into_unknown():
    inputs = normalize(
        {"a": {"b": UNKNOWN_STRING_VALUE}, "c": UNKNOWN_OBJECT_VALUE, "d": [UNKNOWN_NUMBER_VALUE]}
    )
    assert is_unknown(get(inputs, "a.b"))
    assert is_unknown(get(inputs, "c.anything.below"))
    assert inputs["d"] == [UNKNOWN]
    assert get(inputs, "a.missing") is None
    assert get(inputs, "a.b.c") is UNKNOWN
    with pytest.raises(TypeError):
        bool(UNKNOWN)  # a rule must ask is_unknown, not treat it as true or false


def preview_props() -> dict:
    """A Cloud Run service as the engine sends it in preview: the account and digest unknown."""
    props = variant(SERVICE, {"template.containers.0.image": UNKNOWN_STRING_VALUE})
    props["template"]["serviceAccount"] = UNKNOWN_STRING_VALUE
    props["template"]["scaling"] = UNKNOWN_OBJECT_VALUE
    return props


def test_pack_reads_pulumi_policy_proxies_keeping_unknowns_per_value():
    proxied = unknown_checking_proxy(json.loads(json.dumps(preview_props())))
    inputs = plain(proxied)
    assert inputs["template"]["serviceAccount"] is UNKNOWN
    assert inputs["template"]["containers"][0]["image"] is UNKNOWN
    assert inputs["template"]["scaling"] is UNKNOWN
    assert inputs["template"]["containers"][0]["name"] == "model"  # known values stay
    assert evaluate(BY_NAME.values(), [Resource(CLOUD_RUN, "svc", inputs)]) == []


def run_resource_policy(rule_name: str, props: dict) -> list[str]:
    reported: list[str] = []
    args = ResourceValidationArgs(
        CLOUD_RUN,
        unknown_checking_proxy(props),
        "urn:pulumi:dev::p::" + CLOUD_RUN + "::svc",
        "svc",
        None,
        None,
        {},
        {},
    )
    policy(BY_NAME[rule_name]).validate(args, lambda message, urn=None: reported.append(message))
    return reported


def test_pack_policy_skips_unknown_values_and_reports_known_ones():
    assert run_resource_policy("cloudrun-image-by-digest", preview_props()) == []
    assert run_resource_policy("cloudrun-dedicated-service-account", preview_props()) == []
    # A known problem elsewhere in the same resource is still reported despite the unknowns.
    props = preview_props()
    props["template"]["timeout"] = "9999s"
    assert run_resource_policy("cloudrun-request-timeout-inference", props) == [
        "template.timeout is 9999s, above 300s. Fix: set the `timeoutSeconds` stack setting to 1..300"
    ]
