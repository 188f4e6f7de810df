"""The rules as a CrossGuard policy pack (pulumi_policy), for `pulumi preview --policy-pack policy`.

`policies()` wraps each pure rule as a ResourceValidationPolicy or StackValidationPolicy and can
be called anywhere (tests inspect it); only `serve()` constructs the PolicyPack, whose
constructor starts the analyzer's gRPC server and blocks — the Pulumi CLI's way of loading a pack.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyPack,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from policy.catalog import RULES
from policy.rule import AnyRule, Level, Resource, Rule, StackRule, check_resource, check_stack
from policy.values import UNKNOWN, normalize

PACK_NAME = "serverless-ml-gcp"
_LEVELS = {Level.MANDATORY: EnforcementLevel.MANDATORY, Level.ADVISORY: EnforcementLevel.ADVISORY}


def plain(value: Any) -> Any:
    """pulumi_policy hands inputs wrapped in proxies that raise UnknownValueError when an unknown
    value is read, which would skip the whole policy for the resource. Read each value instead,
    keeping unknowns as UNKNOWN, so a rule skips only the values it cannot judge."""
    if isinstance(value, Mapping):
        out = {}
        for key in value:  # iterating keys never raises; reading a value may
            try:
                out[key] = plain(value[key])
            except UnknownValueError:
                out[key] = UNKNOWN
        return out
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        items = []
        for index in range(len(value)):
            try:
                items.append(plain(value[index]))
            except UnknownValueError:
                items.append(UNKNOWN)
        return items
    return normalize(value)


def _resource(resource: PolicyResource) -> Resource:
    parent = resource.parent.name if resource.parent is not None else None
    return Resource(resource.resource_type, resource.name, plain(resource.props), parent, resource.urn)


def _metadata(rule: Rule | StackRule) -> dict:
    """What CrossGuard shows for a rule, the same for resource and stack policies."""
    return {
        "name": rule.name,
        "description": rule.description,
        "enforcement_level": _LEVELS[rule.level],
        "remediation_steps": rule.fix,
        "tags": [rule.area, *rule.ids],
    }


def _resource_policy(rule: Rule) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        resource = Resource(args.resource_type, args.name, plain(args.props), None, args.urn)
        for violation in check_resource(rule, resource):
            report_violation(violation.message, None)

    return ResourceValidationPolicy(validate=validate, **_metadata(rule))


def _stack_policy(rule: StackRule) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [_resource(r) for r in args.resources]
        for violation in check_stack(rule, resources):
            urn = next(
                (
                    r.urn
                    for r in resources
                    if r.name == violation.resource and r.type == violation.resource_type
                ),
                None,
            )
            report_violation(violation.message, urn)

    return StackValidationPolicy(validate=validate, **_metadata(rule))


def policy(rule: AnyRule) -> ResourceValidationPolicy | StackValidationPolicy:
    return _stack_policy(rule) if isinstance(rule, StackRule) else _resource_policy(rule)


def policies() -> list[ResourceValidationPolicy | StackValidationPolicy]:
    return [policy(rule) for rule in RULES]


def serve() -> None:
    """Start the analyzer and block (PolicyPack's constructor serves until killed)."""
    PolicyPack(
        name=PACK_NAME,
        policies=policies(),
        enforcement_level=EnforcementLevel.ADVISORY,  # each policy sets its own level
        description=(
            "Cloud Run v2, IAM, Artifact Registry and GKE guardrails for serverless ML on GCP; "
            "the same rules run offline with `python -m policy check`."
        ),
    )
