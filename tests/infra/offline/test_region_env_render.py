"""Each region's Cloud Run service tells its instances where they run (service/region.py), so a
load test through the front door can count requests per region (bench/report.py)."""

from __future__ import annotations

from infra_helpers import by_type, rendered
from provider_schema import problems

from service.region import REGION_ENV

# The example of docs/multi-region.md, without the throttle (it plays no part here).
TWO_REGIONS = {
    "regions": '["us-central1", "europe-west4"]',
    "loadBalancer": "true",
    "domain": "qa.example.com",
}
RUN = "gcp:cloudrunv2/service:Service"


def envs(service: dict) -> dict[str, str]:
    [container] = service["inputs"]["template"]["containers"]
    return {e["name"]: e["value"] for e in container["envs"]}


def test_each_region_service_gets_its_own_region_and_nothing_else_differs():
    services = {s["inputs"]["location"]: s for s in by_type(rendered("dev", TWO_REGIONS).resources, RUN)}
    assert {region: envs(s)[REGION_ENV] for region, s in services.items()} == {
        "us-central1": "us-central1",
        "europe-west4": "europe-west4",
    }
    first, second = (envs(s) for s in services.values())
    assert {k: v for k, v in first.items() if k != REGION_ENV} == {
        k: v for k, v in second.items() if k != REGION_ENV
    }
    # The value is not hashed into the revision name: one name serves a staged rollout everywhere.
    assert len({s["inputs"]["template"]["revision"] for s in services.values()}) == 1
    assert [p for s in services.values() for p in problems(RUN, s["inputs"])] == []


def test_a_single_region_stack_names_its_gcp_region():
    [service] = by_type(rendered("dev").resources, RUN)
    [container] = service["inputs"]["template"]["containers"]
    assert [e["value"] for e in container["envs"] if e["name"] == REGION_ENV] == [
        service["inputs"]["location"]
    ]
    assert service["inputs"]["location"] == "us-central1"
