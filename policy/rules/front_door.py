"""The global front door: a public one has a rate limit, nothing reaches the services around it,
and failover across regions has what Cloud Run's service health needs (docs/multi-region.md)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from policy import tokens
from policy.rule import Level, Resource, StackRule
from policy.rules.cloud_run_template import serving_container
from policy.values import as_number, get, is_true, is_unknown, objects
from service import routes

RATE_ACTIONS = ("throttle", "rate_based_ban")
# Ingress that admits a load balancer and nothing from the internet.
LOCKED_INGRESS = ("INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER", "INGRESS_TRAFFIC_INTERNAL_ONLY")
# Cloud Run service health: at least one min instance per region, and two regions to fail over to.
FAILOVER_MIN_REGIONS = 2


def _last_segment(value: Any) -> str | None:
    """The name at the end of a self link or id; None for anything but a string."""
    return value.rsplit("/", 1)[-1] if isinstance(value, str) else None


def _by_type(resources: Sequence[Resource], resource_type: str) -> list[Resource]:
    return [r for r in resources if r.type == resource_type]


def _serverless_negs(resources: Sequence[Resource]) -> list[Resource]:
    return [
        n
        for n in _by_type(resources, tokens.REGION_NEG)
        if get(n.inputs, "networkEndpointType") == "SERVERLESS"
    ]


def _services_behind(resources: Sequence[Resource]) -> Iterator[Resource]:
    """The Cloud Run services a serverless NEG in this stack points at (by name and region)."""
    targets = {
        _known(get(n.inputs, "cloudRun.service"), get(n.inputs, "region"))
        for n in _serverless_negs(resources)
    }
    for service in _by_type(resources, tokens.CLOUD_RUN_SERVICE):
        key = _known(get(service.inputs, "name"), get(service.inputs, "location"))
        if key is not None and key in targets:
            yield service


def _known(name: Any, region: Any) -> tuple[str, str] | None:
    """(name, region) where both are known strings, else None (nothing to match on)."""
    return (name, region) if isinstance(name, str) and isinstance(region, str) else None


def _rate_limited(resources: Sequence[Resource]) -> Iterator[tuple[Resource, str]]:
    policies = {
        name: p
        for p in _by_type(resources, tokens.SECURITY_POLICY)
        if isinstance(name := get(p.inputs, "name"), str)
    }
    for backend in _by_type(resources, tokens.BACKEND_SERVICE):
        iap, attached = get(backend.inputs, "iap.enabled"), get(backend.inputs, "securityPolicy")
        if is_unknown(iap) or is_true(iap) or is_unknown(attached):
            continue  # behind IAP only signed-in members of the organisation get through
        policy = policies.get(_last_segment(attached))
        if attached is None:
            yield backend, "a public backend service has no Cloud Armor security policy"
        elif policy is not None and _limits(get(policy.inputs, "rules")) is False:
            yield (
                backend,
                f"its security policy {_last_segment(attached)} has no throttle or rate_based_ban rule",
            )


def _limits(rules: Any) -> bool | None:
    """Whether a policy's rules hold a rate limit; None while a rule or its action is unknown."""
    if is_unknown(rules) or (isinstance(rules, list) and any(map(is_unknown, rules))):
        return None
    actions = [rule.get("action") for rule in objects(rules)]
    if any(action in RATE_ACTIONS for action in actions if not is_unknown(action)):
        return True
    return None if any(map(is_unknown, actions)) else False


def _no_bypass(resources: Sequence[Resource]) -> Iterator[tuple[Resource, str]]:
    for service in _services_behind(resources):
        ingress, disabled = get(service.inputs, "ingress"), get(service.inputs, "defaultUriDisabled")
        if not is_unknown(ingress) and ingress not in LOCKED_INGRESS:
            yield (
                service,
                f"ingress {ingress or 'INGRESS_TRAFFIC_ALL'} lets clients reach it around the load balancer",
            )
        if not is_unknown(disabled) and not is_true(disabled):
            yield (
                service,
                "its run.app URL is on (defaultUriDisabled is not true), a way around the load balancer",
            )


def _failover_ready(resources: Sequence[Resource]) -> Iterator[tuple[Resource, str]]:
    behind = list(_services_behind(resources))
    if len(behind) < FAILOVER_MIN_REGIONS:
        return
    for service in behind:
        minimum = get(service.inputs, "template.scaling.minInstanceCount")
        if not is_unknown(minimum) and not (as_number(minimum) or 0) >= 1:
            yield service, "no min instance: service health cannot judge a region scaled to zero"
        container = serving_container(service.inputs)
        probe = container.get("readinessProbe") if isinstance(container, dict) else None
        if isinstance(container, dict) and not is_unknown(probe) and not probe:
            yield service, "no readiness probe: service health has nothing to aggregate"


RULES = [
    StackRule(
        name="frontdoor-rate-limit",
        level=Level.MANDATORY,
        what=(
            "A public load balancer's backend service has a Cloud Armor policy with a throttle or "
            "rate-based ban rule."
        ),
        why=(
            "Every request runs the model on paid CPU: without a per-client limit anyone who finds "
            "the endpoint can run up the bill (denial of wallet) or starve other callers."
        ),
        fix="set `rateLimitPerMinute` above 0 (or `iap: true` for an organisation-only endpoint)",
        types=frozenset({tokens.BACKEND_SERVICE}),
        check_stack=_rate_limited,
    ),
    StackRule(
        name="frontdoor-no-bypass",
        level=Level.MANDATORY,
        what=(
            "A Cloud Run service behind a serverless NEG takes ingress only from the load balancer "
            "and has its run.app URL disabled."
        ),
        why="Otherwise clients reach it directly, around the front door's rate limit, IAP and logs.",
        fix=(
            "declare the service with ingress INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER and "
            "defaultUriDisabled true (the stack does when `loadBalancer: true`)"
        ),
        types=frozenset({tokens.CLOUD_RUN_SERVICE}),
        check_stack=_no_bypass,
    ),
    StackRule(
        name="frontdoor-failover-ready",
        level=Level.ADVISORY,
        what=(
            "Cloud Run services behind serverless NEGs in two or more regions keep a min instance "
            "and a readiness probe each."
        ),
        why=(
            "Cloud Run service health fails a region over from its instances' readiness probes and "
            "needs at least one instance per region to judge it; without them an outage still reaches users."
        ),
        fix=f"set `minInstances` to 1 or more (the readiness probe on {routes.READY} is declared by "
        "the stack)",
        types=frozenset({tokens.CLOUD_RUN_SERVICE}),
        check_stack=_failover_ready,
    ),
]
