"""Who can reach a Cloud Run service, held against what the stack intends.

The program labels each service `access: public|private` from the stack's `public` setting. A
public invoker grant (allUsers / allAuthenticatedUsers on roles/run.invoker) or the IAM bypass
(`invokerIamDisabled`) is only acceptable on a service labelled public.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from policy import tokens
from policy.grants import grants
from policy.rule import Level, Resource, Rule, StackRule
from policy.values import UNKNOWN, get, is_true, is_unknown

SERVICE = frozenset({tokens.CLOUD_RUN_SERVICE})
INVOKER_ROLE = "roles/run.invoker"
ACCESS_VALUES = ("public", "private")
# Cloud Run's ingress default when the field is unset is INGRESS_TRAFFIC_ALL.
_OPEN_INGRESS = (None, "INGRESS_TRAFFIC_ALL")


def access(inputs: Mapping[str, Any]) -> Any:
    """The service's `access` label: "public", "private", None (absent) or UNKNOWN."""
    return get(inputs, "labels.access")


def _label(_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    value = access(inputs)
    if not is_unknown(value) and value not in ACCESS_VALUES:
        shown = "missing" if value is None else repr(value)
        yield f"the `access` label is {shown}, so no rule can tell whether public access is intended"


def _iam_disabled(_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    disabled, value = get(inputs, "invokerIamDisabled"), access(inputs)
    if is_unknown(disabled) or is_unknown(value) or not is_true(disabled):
        return
    if value != "public":
        yield "invokerIamDisabled is true (anyone can invoke) but the service is not labelled access=public"


def _ingress(_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    ingress, value = get(inputs, "ingress"), access(inputs)
    if is_unknown(ingress) or is_unknown(value):
        return
    if value == "private" and ingress in _OPEN_INGRESS:
        yield "a private service accepts traffic from the internet (ingress INGRESS_TRAFFIC_ALL)"


def _service_for(grant: Resource, services: Sequence[Resource]) -> Any:
    """The Cloud Run service an IAM resource grants on: by service name (+ location / project
    where both are known), else the one service beside it under the same parent component.
    None: not declared in this stack. UNKNOWN: the name is not known yet (preview) and the
    parent does not settle it."""
    name = get(grant.inputs, "name")
    if name is None:
        name = get(grant.inputs, "service")  # the v1 IAM resources call it `service`
    if isinstance(name, str):
        short = name.rsplit("/", 1)[-1]  # `name` may be a full projects/…/services/NAME path
        matches = [s for s in services if _same_service(grant, s, short)]
        if matches:
            return matches[0]
    siblings = [s for s in services if grant.parent is not None and s.parent == grant.parent]
    if len(siblings) == 1:
        return siblings[0]
    if not isinstance(name, str) or any(is_unknown(get(s.inputs, "name")) for s in services):
        return UNKNOWN  # one of the unknowns may be the match
    return None


def _same_service(grant: Resource, service: Resource, short_name: str) -> bool:
    if get(service.inputs, "name") != short_name:
        return False
    for key in ("location", "project"):
        mine, theirs = get(grant.inputs, key), get(service.inputs, key)
        if isinstance(mine, str) and isinstance(theirs, str) and mine != theirs:
            return False
    return True


def _public_invokers(resources: Sequence[Resource]) -> Iterator[tuple[Resource, str]]:
    services = [r for r in resources if r.type == tokens.CLOUD_RUN_SERVICE]
    for resource in resources:
        if resource.type not in tokens.CLOUD_RUN_IAM:
            continue
        public = [g for g in grants(resource.inputs) if g.public]
        if not public:
            continue
        for grant in public:
            if grant.role != INVOKER_ROLE:
                yield resource, f"{grant.member} is granted {grant.role}; public principals may only invoke"
        if not any(g.role == INVOKER_ROLE for g in public):
            continue
        members = ", ".join(sorted({g.member for g in public if g.role == INVOKER_ROLE}))
        service = _service_for(resource, services)
        if is_unknown(service):
            continue
        if service is None:
            yield (
                resource,
                (
                    f"{members} may invoke a service not declared in this stack, so its intended access "
                    "cannot be confirmed"
                ),
            )
            continue
        value = access(service.inputs)
        if is_unknown(value) or value == "public":
            continue
        yield (
            resource,
            (f"{members} may invoke {service.name}, which is labelled access={value or 'missing'}"),
        )


RULES = [
    Rule(
        name="cloudrun-access-label",
        level=Level.MANDATORY,
        what="Cloud Run services carry an `access` label, public or private.",
        why=(
            "It records what the stack intends, so a public grant or an IAM bypass can be told "
            "apart from a mistake, in review and by the access rules."
        ),
        fix='label the service access="public" or access="private" from the stack\'s `public` setting',
        types=SERVICE,
        check=_label,
    ),
    StackRule(
        name="cloudrun-public-invoker-intended",
        level=Level.MANDATORY,
        what=(
            "allUsers / allAuthenticatedUsers are granted on a Cloud Run service only as "
            "roles/run.invoker, and only on a service labelled access=public."
        ),
        why=(
            "A public invoker grant opens the model (and its bill) to the internet; on a service "
            "meant to be private it is a leak, and any other role given to the public is a takeover."
        ),
        fix=(
            "drop the public member (list the callers in `invokers` instead), or set `public: true` "
            "if the endpoint really is meant to be open"
        ),
        ids=("CKV_GCP_102",),
        types=tokens.CLOUD_RUN_IAM,
        check_stack=_public_invokers,
    ),
    Rule(
        name="cloudrun-invoker-iam-disabled",
        level=Level.MANDATORY,
        what="invokerIamDisabled (the IAM bypass) is only set on services labelled access=public.",
        why=(
            "With the invoker check disabled anyone on the internet can call the service, and no "
            "IAM grant shows it: the same exposure as allUsers, but invisible in IAM review."
        ),
        fix=(
            "set invokerIamDisabled to false and grant roles/run.invoker to the callers (allUsers only if "
            "public)"
        ),
        ids=("CKV_GCP_102",),
        types=SERVICE,
        check=_iam_disabled,
    ),
    Rule(
        name="cloudrun-private-ingress",
        level=Level.ADVISORY,
        what="A Cloud Run service labelled access=private does not take ingress from the whole internet.",
        why=(
            "IAM still guards it, but internal (or load-balancer-only) ingress adds a network layer, "
            "so a leaked token or a wrong grant is not enough to reach the model."
        ),
        fix=(
            "set the `ingress` stack setting to internal or internal-and-cloud-load-balancing when "
            "every caller is inside the VPC or behind a load balancer"
        ),
        types=SERVICE,
        check=_ingress,
    ),
]
