"""The real gate, through the front door's rendered URL map, against real service processes: the
gate's paths reach the candidate and the serving revision of the region it gates, prefix cut,
and a wrong candidate is held there as it is at its tag URL. The URL map is played by a stand-in
proxy (url_map_proxy.py); the services stand for the revisions (conftest.py)."""

from __future__ import annotations

import math

import pytest
from infra_helpers import by_type, rendered
from rollout_faults import MODEL_REVISION
from url_map_proxy import UrlMapProxy

from infra.rollout.gate import GateConfig, run_gate
from service import routes

DOMAIN = "qa.example.com"
GATED = {
    "regions": '["us-central1", "europe-west4"]',
    "loadBalancer": "true",
    "domain": DOMAIN,
    "rateLimitPerMinute": "600",
    "rollout": "gated",
    "servingRevision": "qa-dev-r0123456789ab",
}
BACKEND = "gcp:compute/backendService:BackendService"
NEG = "gcp:compute/regionNetworkEndpointGroup:RegionNetworkEndpointGroup"
URL_MAP = "gcp:compute/uRLMap:URLMap"
# Latency does not decide here (inf): its decision is tested on fixed samples (test_rollout_latency.py).
CONFIG = GateConfig(expected_model_revision=MODEL_REVISION, latency_budget=math.inf, latency_rounds=2)


def _name(link: str) -> str:
    return link.rsplit("/", 1)[-1]


def front_door(resources: list[dict], services: dict, candidate: str) -> UrlMapProxy:
    """The rendered URL map in front of local services: a backend whose NEG names the candidate
    tag is `candidate`'s process, every other backend the serving one's."""
    negs = {n["inputs"]["name"]: n["inputs"] for n in by_type(resources, NEG)}
    upstreams = {}
    for backend in by_type(resources, BACKEND):
        tags = {negs[_name(b["group"])]["cloudRun"].get("tag") for b in backend["inputs"]["backends"]}
        upstreams[backend["inputs"]["name"]] = services[candidate if tags == {"candidate"} else "serving"].url
    [url_map] = [r["inputs"] for r in by_type(resources, URL_MAP) if r["name"].endswith("-urlmap")]
    return UrlMapProxy(url_map, upstreams)


def test_the_url_maps_own_tests_pass_on_its_routing():
    """What Compute Engine checks on every update of the map, checked on the stand-in's reading."""
    resources = rendered("dev", GATED).resources
    [url_map] = [r["inputs"] for r in by_type(resources, URL_MAP) if r["name"].endswith("-urlmap")]
    proxy = UrlMapProxy(url_map, {})
    try:
        assert url_map["tests"]
        for test in url_map["tests"]:
            assert proxy.route(test["host"], test["path"]) == (_name(test["service"]), routes.READY), test
    finally:
        proxy.server.server_close()


@pytest.mark.slow
def test_the_gate_passes_a_good_candidate_in_each_region_through_the_front_door(services):
    result = rendered("dev", GATED)
    with front_door(result.resources, services, "good") as door:
        for region in ("us-central1", "europe-west4"):
            candidate = result.outputs["candidateUrls"][region].replace(f"https://{DOMAIN}", door.url)
            serving = result.outputs["servingUrls"][region].replace(f"https://{DOMAIN}", door.url)
            verdict = run_gate(candidate, serving, CONFIG)
            assert verdict.passed, verdict.reason
    reached = {(backend, path) for backend, path in door.seen}
    for region in ("us-central1", "europe-west4"):
        # The candidate got the checks, at the service's own routes; the serving one the reference.
        assert {p for b, p in reached if b == f"qa-dev-candidate-{region}"} == {routes.READY, routes.PREDICT}
        assert {p for b, p in reached if b == f"qa-dev-serving-{region}"} == {routes.PREDICT}
    assert not [b for b, _ in reached if b == "qa-dev-backend"]  # users' route untouched


@pytest.mark.slow
def test_a_wrong_candidate_is_held_through_the_front_door(services):
    result = rendered("dev", GATED)
    with front_door(result.resources, services, "other") as door:
        candidate = result.outputs["candidateUrls"]["europe-west4"].replace(f"https://{DOMAIN}", door.url)
        serving = result.outputs["servingUrls"]["europe-west4"].replace(f"https://{DOMAIN}", door.url)
        verdict = run_gate(candidate, serving, CONFIG)
    assert not verdict.passed and verdict.reason.startswith("wrong answers: "), verdict.reason
