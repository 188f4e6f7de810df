"""Cloud Run list prices — the one place they live. Update them here, with the date.

Source: https://cloud.google.com/run/pricing (services, USD, on-demand, no committed-use
discount), transcribed on PRICES_AS_OF. The estimate runs offline, so the values are not
fetched live: check the page before relying on an estimate, and update this table (and its
date) when Google changes it.

Terms as the page uses them:
* request-based billing ("CPU only allocated during request processing", `cpu_idle=true`):
  CPU and memory are billed only while an instance handles at least one request, rounded up
  to 100 ms, plus a fee per request. Idle *minimum* instances are billed at a lower idle rate.
* instance-based billing ("CPU always allocated", `cpu_idle=false`): CPU and memory are
  billed for the instance's whole life, at a lower rate, with no per-request fee. GPUs
  require it, and the GPU is billed for the instance's whole life too.
* The free tier (per billing account, per month, shared by every service on the account)
  is applied as a discount at Tier 1 prices.
"""

from __future__ import annotations

from dataclasses import dataclass

SOURCE_URL = "https://cloud.google.com/run/pricing"
PRICES_AS_OF = "2026-11-28"
CURRENCY = "USD"
HOURS_PER_MONTH = 730  # Google's pricing calculator month (8,760 h / 12)
BILLING_GRANULARITY_S = 0.1  # request-based billable time is rounded up to 100 ms


@dataclass(frozen=True)
class TierPrices:
    tier: int
    # request-based billing
    request_cpu_vcpu_s: float
    request_memory_gib_s: float
    per_million_requests: float
    idle_cpu_vcpu_s: float  # idle minimum instances, request-based billing
    idle_memory_gib_s: float
    # instance-based billing
    instance_cpu_vcpu_s: float
    instance_memory_gib_s: float
    # NVIDIA L4, per GPU-second, instance-based billing, zonal redundancy turned off
    # (the cheaper rate; with zonal redundancy on the page lists a higher one).
    gpu_l4_s: float | None


TIER_1 = TierPrices(
    tier=1,
    request_cpu_vcpu_s=0.000024,
    request_memory_gib_s=0.0000025,
    per_million_requests=0.40,
    idle_cpu_vcpu_s=0.0000025,
    idle_memory_gib_s=0.0000025,
    instance_cpu_vcpu_s=0.000018,
    instance_memory_gib_s=0.000002,
    gpu_l4_s=0.0001867,
)

TIER_2 = TierPrices(
    tier=2,
    request_cpu_vcpu_s=0.0000336,
    request_memory_gib_s=0.0000035,
    per_million_requests=0.40,
    idle_cpu_vcpu_s=0.0000035,
    idle_memory_gib_s=0.0000035,
    instance_cpu_vcpu_s=0.0000252,
    instance_memory_gib_s=0.0000028,
    gpu_l4_s=None,  # not transcribed: estimates fall back to the Tier 1 rate and say so
)


@dataclass(frozen=True)
class FreeTier:
    vcpu_s: float
    gib_s: float
    requests: float


FREE_TIER_REQUEST_BASED = FreeTier(vcpu_s=180_000, gib_s=360_000, requests=2_000_000)
FREE_TIER_INSTANCE_BASED = FreeTier(vcpu_s=240_000, gib_s=450_000, requests=0)

# Regions billed at Tier 1 (cloud.google.com/run/docs/locations); every other region is Tier 2.
# Laid out by hand (fmt: skip): a table of names reads better in rows than one per line.
TIER_1_REGIONS = frozenset({
    "asia-east1", "asia-northeast1", "asia-northeast2", "europe-north1", "europe-southwest1",
    "europe-west1", "europe-west4", "europe-west8", "europe-west9", "me-west1", "us-central1",
    "us-east1", "us-east4", "us-east5", "us-south1", "us-west1",
})  # fmt: skip


def prices_for(region: str) -> TierPrices:
    return TIER_1 if region in TIER_1_REGIONS else TIER_2
