"""Monthly cost of a stack's Cloud Run settings at a steady request rate.

The model (every step is in the report's assumptions, and tests/infra/cost/test_cost.py works
examples by hand):

1. In flight: L = rps × latency (Little's law). Instances needed: N = ⌈L / concurrency⌉
   (at least 1 while there is traffic), capped at max instances.
2. Request-based billing bills an instance only while it handles a request, in 100 ms
   steps. Let b = the latency rounded up to 100 ms and n = max(N, 1). With random (Poisson)
   arrivals spread over n instances, an instance has a request in progress a fraction
   1 − e^(−(rps/n)·b) of the time (M/G/∞: overlapping requests share billed time). One
   instance overlaps at most `concurrency` requests, so billed time is also at least
   rps·b / concurrency. Billed instances per second:
       B = min(n, max(rps·b / concurrency, n · (1 − e^(−rps·b/n))))
   ≈ rps·b at low traffic or concurrency 1 (each request billed alone, rounded up), → n
   when requests always overlap. Minimum instances not busy cost the idle rate: max(0, min − B).
3. Instance-based billing bills an instance for its whole life. With min 0 an idle instance
   is kept for up to IDLE_KEEP_S after its last request, so instances alive per second are
   the same formula with each request holding its instance for latency + IDLE_KEEP_S:
       A = max(min, min(n, max(rps·latency / concurrency, n · (1 − e^(−rps·(latency + IDLE_KEEP_S)/n)))))
   GPUs need this billing.
4. Always on: max(N, min, 1) instances of the same size, instance-based, all month.
5. Month = 730 h. Free tier off unless asked (it is per billing account, shared).

Not modelled: start-up time of new instances (billed), network egress, Artifact Registry
storage, logging, builds, committed-use discounts, taxes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from infra.cost import prices as p
from infra.limits import GPU_TYPES

IDLE_KEEP_S = 900.0  # Cloud Run may keep an idle instance up to 15 minutes
# A generous guess for a short context on a small CPU instance; pass a measured latency instead.
DEFAULT_LATENCY_MS = 100.0
# The reference traffic of the review's cost lines (the render's estimate, `infra diff`).
REVIEW_RPS = 1.0


@dataclass(frozen=True)
class CostInputs:
    """What the bill depends on: one Cloud Run service's size, scaling and billing mode."""

    cpu: float
    memory_gib: float
    gpu: str = ""  # "" or "nvidia-l4" (one GPU per instance)
    concurrency: int = 80
    min_instances: int = 0
    max_instances: int = 100
    cpu_always_allocated: bool = False  # True = instance-based billing
    region: str = "us-central1"
    platform: str = "cloudrun"
    label: str = ""  # e.g. the stack name, for titles

    def __post_init__(self) -> None:
        problems = []
        if self.cpu <= 0 or self.memory_gib <= 0:
            problems.append("cpu and memory must be > 0")
        if self.concurrency < 1:
            problems.append("concurrency must be ≥ 1")
        if not 0 <= self.min_instances <= self.max_instances or self.max_instances < 1:
            problems.append("need 0 ≤ min instances ≤ max instances, max ≥ 1")
        if self.gpu and self.gpu not in GPU_TYPES:
            problems.append(f"gpu {self.gpu!r} has no price here (known: {', '.join(GPU_TYPES)})")
        if problems:
            raise ValueError("; ".join(problems))

    @classmethod
    def from_settings(cls, settings: Any) -> CostInputs:
        """From `infra.settings.Settings` (duck-typed, so this module needs no Pulumi)."""
        service = settings.service
        # Cloud Run manual scaling runs exactly manualInstances, whatever min/max say.
        scaling = getattr(settings, "autoscaling", None)
        fixed = scaling.manual_instances if getattr(scaling, "manual", False) else None
        return cls(
            cpu=float(service.cpu.vcpu),
            memory_gib=float(service.memory_mib) / 1024,
            gpu=service.gpu or "",
            concurrency=int(service.concurrency),
            min_instances=int(fixed if fixed is not None else service.min_instances),
            max_instances=int(fixed if fixed is not None else service.max_instances),
            cpu_always_allocated=bool(service.cpu_always_allocated),
            region=settings.region,
            platform=getattr(settings, "platform", "cloudrun"),
            label=getattr(settings, "stack", ""),
        )

    @property
    def gpus(self) -> int:
        return 1 if self.gpu else 0


@dataclass(frozen=True)
class LineItem:
    item: str
    quantity: float
    unit: str
    unit_price: float

    @property
    def cost(self) -> float:
        return self.quantity * self.unit_price


@dataclass(frozen=True)
class Estimate:
    billing: str  # "request-based" | "instance-based" | "always-on"
    items: tuple[LineItem, ...]
    instances: float  # mean billed (or alive) instances
    free_tier_discount: float = 0.0

    @property
    def total(self) -> float:
        return max(sum(item.cost for item in self.items) - self.free_tier_discount, 0.0)


@dataclass(frozen=True)
class CostReport:
    inputs: CostInputs
    rps: float
    latency_ms: float
    hours: float
    in_flight: float
    instances_needed: int
    serverless: Estimate
    always_on: Estimate
    break_even_rps: float | None
    notes: tuple[str, ...] = field(default_factory=tuple)
    free_tier: bool = False

    @property
    def tier(self) -> int:
        return p.prices_for(self.inputs.region).tier


def instances_needed(rps: float, latency_s: float, concurrency: int) -> int:
    if rps <= 0:
        return 0
    return max(1, math.ceil(rps * latency_s / concurrency - 1e-9))


def busy_instances(rps: float, work_s: float, hold_s: float, instances: int, concurrency: int) -> float:
    """Mean instances billed: each request works `work_s` and keeps its instance `hold_s`.

    n · (1 − e^(−rps·hold/n)) is the chance-weighted count of instances holding at least one
    request (M/G/∞); an instance takes at most `concurrency` requests at once, so there are
    at least rps·work/concurrency; and never more than the n instances there are.
    """
    if rps <= 0:
        return 0.0
    n = max(instances, 1)
    return min(n, max(rps * work_s / concurrency, n * -math.expm1(-rps * hold_s / n)))


def billed_seconds(latency_s: float) -> float:
    """Request time as billed: rounded up to the next 100 ms (at least 100 ms)."""
    steps = max(1, math.ceil(latency_s / p.BILLING_GRANULARITY_S - 1e-9))
    return steps * p.BILLING_GRANULARITY_S


@dataclass
class _Pricing:
    """What every line item needs besides the instance: prices, the period, the options."""

    tier: p.TierPrices
    seconds: float
    free_tier: bool
    notes: list[str] = field(default_factory=list)

    def gpu_price(self) -> float:
        if self.tier.gpu_l4_s is not None:
            return self.tier.gpu_l4_s
        self.notes.append("No Tier 2 L4 price in the table: the Tier 1 rate was used.")
        assert p.TIER_1.gpu_l4_s is not None
        return p.TIER_1.gpu_l4_s

    def discount(self, items: tuple[LineItem, ...], free: p.FreeTier) -> float:
        """Free vCPU-s / GiB-s / requests, valued at each item's own unit price."""
        if not self.free_tier:
            return 0.0
        allowance = {"vCPU-s": free.vcpu_s, "GiB-s": free.gib_s, "requests": free.requests}
        discount = 0.0
        for item in items:
            if item.unit in allowance and "idle" not in item.item:
                used = min(item.quantity, allowance[item.unit])
                allowance[item.unit] -= used
                discount += used * item.unit_price
        return discount

    def instance_based(self, inputs: CostInputs, alive: float, billing: str) -> Estimate:
        """`alive` instances billed for their whole life (CPU always allocated)."""
        seconds, tier = self.seconds, self.tier
        items = [
            LineItem("CPU", alive * inputs.cpu * seconds, "vCPU-s", tier.instance_cpu_vcpu_s),
            LineItem("Memory", alive * inputs.memory_gib * seconds, "GiB-s", tier.instance_memory_gib_s),
        ]
        if inputs.gpus:
            items.append(
                LineItem(f"GPU {inputs.gpu}", alive * inputs.gpus * seconds, "GPU-s", self.gpu_price())
            )
        frozen = tuple(items)
        return Estimate(billing, frozen, alive, self.discount(frozen, p.FREE_TIER_INSTANCE_BASED))

    def request_based(self, inputs: CostInputs, busy: float) -> Estimate:
        """`busy` instances billed while handling requests; idle min instances at the idle rate."""
        seconds, tier = self.seconds, self.tier
        idle = max(0.0, inputs.min_instances - busy)
        items = (
            LineItem(
                "CPU, handling requests", busy * inputs.cpu * seconds, "vCPU-s", tier.request_cpu_vcpu_s
            ),
            LineItem(
                "Memory, handling requests",
                busy * inputs.memory_gib * seconds,
                "GiB-s",
                tier.request_memory_gib_s,
            ),
            LineItem("CPU, idle min instances", idle * inputs.cpu * seconds, "vCPU-s", tier.idle_cpu_vcpu_s),
            LineItem(
                "Memory, idle min instances",
                idle * inputs.memory_gib * seconds,
                "GiB-s",
                tier.idle_memory_gib_s,
            ),
        )
        return Estimate("request-based", items, busy + idle)

    def serverless(self, inputs: CostInputs, rps: float, latency_s: float, n: int) -> Estimate:
        """The stack's own billing mode at this traffic."""
        if inputs.cpu_always_allocated or inputs.gpus:
            alive = busy_instances(rps, latency_s, latency_s + IDLE_KEEP_S, n, inputs.concurrency)
            return self.instance_based(inputs, max(float(inputs.min_instances), alive), "instance-based")
        billed = billed_seconds(latency_s)
        busy = busy_instances(rps, billed, billed, n, inputs.concurrency)
        base = self.request_based(inputs, busy)
        items = (
            *base.items,
            LineItem("Requests", rps * self.seconds, "requests", self.tier.per_million_requests / 1e6),
        )
        return Estimate(base.billing, items, base.instances, self.discount(items, p.FREE_TIER_REQUEST_BASED))


def estimate(
    inputs: CostInputs,
    rps: float,
    latency_ms: float = DEFAULT_LATENCY_MS,
    *,
    free_tier: bool = False,
    hours: float = p.HOURS_PER_MONTH,
) -> CostReport:
    """Monthly cost of `inputs` at a steady `rps` with `latency_ms` per request."""
    if rps < 0 or latency_ms <= 0 or hours <= 0:
        raise ValueError("need rps ≥ 0, latency > 0 and hours > 0")
    pricing = _Pricing(p.prices_for(inputs.region), hours * 3600, free_tier)
    notes = pricing.notes
    latency_s = latency_ms / 1000
    needed = instances_needed(rps, latency_s, inputs.concurrency)
    n = min(needed, inputs.max_instances)
    if needed > inputs.max_instances:
        notes.append(
            f"{rps:g} req/s × {latency_ms:g} ms needs {needed} instances at concurrency "
            f"{inputs.concurrency}, above max instances {inputs.max_instances}: requests "
            "would queue and fail with 429; the estimate uses the cap."
        )
    if inputs.gpus and not inputs.cpu_always_allocated:
        notes.append("GPUs need instance-based billing (CPU always allocated): priced that way.")
    if inputs.platform != "cloudrun":
        notes.append(
            f"Platform is {inputs.platform}: these are Cloud Run prices for the same "
            "instance size, not the cost of a GKE cluster."
        )
    serverless = pricing.serverless(inputs, rps, latency_s, n)
    always_on = pricing.instance_based(inputs, float(max(n, inputs.min_instances, 1)), "always-on")
    return CostReport(
        inputs=inputs,
        rps=rps,
        latency_ms=latency_ms,
        hours=hours,
        in_flight=rps * latency_s,
        instances_needed=needed,
        serverless=serverless,
        always_on=always_on,
        break_even_rps=break_even_rps(inputs, latency_ms, free_tier, hours),
        notes=tuple(dict.fromkeys(notes)),
        free_tier=free_tier,
    )


def break_even_rps(
    inputs: CostInputs, latency_ms: float, free_tier: bool = False, hours: float = p.HOURS_PER_MONTH
) -> float | None:
    """Request rate above which request-based billing costs more than one always-on instance.

    Searched up to one instance's capacity (concurrency / latency); None if request-based
    stays cheaper all the way, or if the service can't use request-based billing (GPU).
    """
    if inputs.gpus:
        return None
    request_based = replace(inputs, cpu_always_allocated=False)
    pricing = _Pricing(p.prices_for(inputs.region), hours * 3600, free_tier)
    one_always_on = pricing.instance_based(inputs, float(max(1, inputs.min_instances)), "always-on")
    latency_s = latency_ms / 1000
    capacity = inputs.concurrency / latency_s

    def gap(rps: float) -> float:  # within one instance's capacity: n = 1
        return pricing.serverless(request_based, rps, latency_s, 1).total - one_always_on.total

    if gap(capacity) <= 0:
        return None
    low, high = 0.0, capacity
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if gap(mid) <= 0 else (low, mid)
    return high
