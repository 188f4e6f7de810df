"""The monthly cost of a JSON render (the resources as `python -m infra render --format json`
prints them), so `python -m infra diff` can show what a change does to the bill. The same model
and prices as the render's own estimate: the first Cloud Run service takes the reference
traffic, every other one (more regions) costs its idle minimum instances, and the front door's
forwarding rules and Cloud Armor policies are priced from infra/cost/front_door.py."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from infra.cost import front_door as fd
from infra.cost import prices as p
from infra.cost.model import CostInputs, estimate
from infra.limits import GPU_RESOURCE, parse_cpu, parse_memory_mib

CLOUD_RUN = "gcp:cloudrunv2/service:Service"
FORWARDING_RULE = "gcp:compute/globalForwardingRule:GlobalForwardingRule"
SECURITY_POLICY = "gcp:compute/securityPolicy:SecurityPolicy"


def _inputs(service: dict[str, Any]) -> CostInputs | None:
    """One service's CostInputs; None where its size is not a plain value (a stand-in, a typo)."""
    inputs = service.get("inputs") or {}
    template = inputs.get("template") or {}
    container = (template.get("containers") or [{}])[0]
    resources = container.get("resources") or {}
    limits = resources.get("limits") or {}
    cpu, memory = parse_cpu(str(limits.get("cpu", ""))), parse_memory_mib(str(limits.get("memory", "")))
    scaling = template.get("scaling") or {}
    if cpu is None or memory is None:
        return None
    minimum = int(scaling.get("minInstanceCount") or 0)
    return CostInputs(
        cpu=cpu.vcpu,
        memory_gib=memory / 1024,
        gpu="nvidia-l4" if limits.get(GPU_RESOURCE) else "",
        concurrency=int(template.get("maxInstanceRequestConcurrency") or 80),
        min_instances=minimum,
        max_instances=max(int(scaling.get("maxInstanceCount") or 100), minimum, 1),
        cpu_always_allocated=resources.get("cpuIdle") is False,
        region=str(inputs.get("location") or "us-central1"),
    )


def monthly_cost(resources: Sequence[dict[str, Any]], rps: float) -> float | None:
    """None when the render has no Cloud Run service to price (Knative: nodes, not requests)."""
    services = [r for r in resources if r.get("type") == CLOUD_RUN]
    if not services:
        return None
    total = 0.0
    for index, service in enumerate(services):
        inputs = _inputs(service)
        if inputs is None:
            continue
        # The first service takes the traffic; another region's costs what it keeps warm.
        total += estimate(inputs, rps if index == 0 else 0.0).serverless.total
    rules = sum(1 for r in resources if r.get("type") == FORWARDING_RULE)
    policies = [r for r in resources if r.get("type") == SECURITY_POLICY]
    armor_rules = sum(len((r.get("inputs") or {}).get("rules") or []) for r in policies)
    total += rules * p.HOURS_PER_MONTH * fd.FORWARDING_RULE_HOUR
    total += len(policies) * fd.ARMOR_POLICY_MONTH + armor_rules * fd.ARMOR_RULE_MONTH
    if policies:
        total += rps * p.HOURS_PER_MONTH * 3600 * fd.ARMOR_PER_MILLION_REQUESTS / 1e6
    return total


def cost_line(base: Sequence[dict[str, Any]], head: Sequence[dict[str, Any]], rps: float) -> str:
    """One markdown line for the diff: before → after, at `rps`."""
    before, after = monthly_cost(base, rps), monthly_cost(head, rps)
    if after is None and before is None:
        return ""
    old = f"${before:,.2f}" if before is not None else "—"
    new = f"${after:,.2f}" if after is not None else "—"
    change = (after or 0.0) - (before or 0.0)
    sign = "+" if change >= 0 else "−"
    return (
        f"Monthly cost at {rps:g} req/s (the render's reference rate): {old} → {new} "
        f"({sign}${abs(change):,.2f})"
    )
