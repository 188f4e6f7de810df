"""The gated rollout's way in behind the front door, rendered offline: the URL map sends the gate's
paths to each region's candidate (its tag) and serving revision, the stack exports those URLs, and
a front door without a gated rollout declares none of it (docs/multi-region.md)."""

from __future__ import annotations

from infra_helpers import by_type, rendered
from test_front_door_render import GATED, NEG, PRIVATE_IAP, TWO_REGIONS

from infra.load_balancing import GATE_PATH_PREFIX
from service import routes

BACKEND = "gcp:compute/backendService:BackendService"
URL_MAP = "gcp:compute/uRLMap:URLMap"
IAP_MEMBER = "gcp:iap/webBackendServiceIamMember:WebBackendServiceIamMember"
ALERT = "gcp:monitoring/alertPolicy:AlertPolicy"
REGIONS = ("us-central1", "europe-west4")


def _last(link: str) -> str:
    return link.rsplit("/", 1)[-1]


def url_map(resources: list[dict]) -> dict:
    [found] = [r["inputs"] for r in by_type(resources, URL_MAP) if r["name"].endswith("-urlmap")]
    return found


def routing(resources: list[dict]) -> dict[str, str]:
    """Gate path prefix → the backend service's name it routes to, rewriting the prefix to `/`."""
    [matcher] = url_map(resources)["pathMatchers"]
    found = {}
    for rule in matcher["routeRules"]:
        assert rule["routeAction"] == {"urlRewrite": {"pathPrefixRewrite": "/"}}
        [match] = rule["matchRules"]
        found[match["prefixMatch"]] = _last(rule["service"])
    return found


def test_the_gate_reaches_each_regions_candidate_and_serving_revision_by_path():
    resources = rendered("dev", GATED).resources
    assert routing(resources) == {
        f"/_rollout/{target}/{region}/": f"qa-dev-{target}-{region}"
        for region in REGIONS
        for target in ("candidate", "serving")
    }
    backends = {b["inputs"]["name"]: b["inputs"] for b in by_type(resources, BACKEND)}
    negs = {n["inputs"]["name"]: n["inputs"] for n in by_type(resources, NEG)}
    for region in REGIONS:
        for target, tag in (("candidate", {"tag": "candidate"}), ("serving", {})):
            backend = backends[f"qa-dev-{target}-{region}"]
            [group] = backend["backends"]
            neg = negs[_last(group["group"])]
            assert (neg["region"], neg["cloudRun"]) == (region, {"service": "qa-dev", **tag})
            # The gate's requests meet the same Cloud Armor policy as users' ones.
            assert backend["securityPolicy"] == backends["qa-dev-backend"]["securityPolicy"]
    # Users' requests still go to the one backend over every region.
    assert _last(url_map(resources)["defaultService"]) == "qa-dev-backend"
    assert _last(url_map(resources)["pathMatchers"][0]["defaultService"]) == "qa-dev-backend"


def test_the_url_map_carries_tests_that_compute_engine_checks_on_every_update():
    resources = rendered("dev", GATED).resources
    tests = {(t["host"], t["path"]): _last(t["service"]) for t in url_map(resources)["tests"]}
    expected = {("qa.example.com", routes.READY): "qa-dev-backend"}
    expected |= {
        ("qa.example.com", prefix.rstrip("/") + routes.READY): backend
        for prefix, backend in routing(resources).items()
    }
    assert tests == expected


def test_iap_admits_its_members_on_the_gates_backend_services_too():
    resources = rendered("dev", {**PRIVATE_IAP, **GATED}).resources
    granted = {_last(m["inputs"]["webBackendService"]) for m in by_type(resources, IAP_MEMBER)}
    assert granted == {b["inputs"]["name"] for b in by_type(resources, BACKEND)}
    assert all(b["inputs"]["iap"]["enabled"] is True for b in by_type(resources, BACKEND))


def test_a_front_door_without_a_gated_rollout_declares_no_gate_routes():
    resources = rendered("dev", TWO_REGIONS).resources
    assert [b["inputs"]["name"] for b in by_type(resources, BACKEND)] == ["qa-dev-backend"]
    assert len(by_type(resources, NEG)) == len(REGIONS)
    assert not {"hostRules", "pathMatchers", "tests"} & set(url_map(resources))


def test_the_stack_exports_the_gates_urls_through_the_front_door():
    outputs = rendered("dev", GATED).outputs
    assert outputs["candidateUrls"] == {r: f"https://qa.example.com/_rollout/candidate/{r}" for r in REGIONS}
    assert outputs["servingUrls"] == {r: f"https://qa.example.com/_rollout/serving/{r}" for r in REGIONS}
    assert outputs["candidateUrl"] == outputs["candidateUrls"]["us-central1"]


def test_no_candidate_url_where_the_phase_has_no_candidate():
    first_region_only = rendered("dev", {**GATED, "rolloutRegions": "1"}).outputs
    assert first_region_only["candidateUrls"] == {
        "us-central1": "https://qa.example.com/_rollout/candidate/us-central1",
        "europe-west4": "",
    }
    promoted = rendered("dev", {**GATED, "servingRevision": ""}).outputs
    assert promoted["candidateUrl"] == "" and set(promoted["candidateUrls"].values()) == {""}


def test_without_a_front_door_the_gate_compares_within_each_region():
    outputs = rendered("dev", {"regions": TWO_REGIONS["regions"], "rollout": "gated"}).outputs
    assert outputs["servingUrls"] == outputs["regionUrls"]


def test_no_route_of_the_service_is_under_the_gates_prefix():
    assert [route for route in routes.ALL if route.startswith(GATE_PATH_PREFIX)] == []


def test_the_front_door_alerts_count_users_requests_only():
    resources = rendered("dev", {**GATED, "monitoring": "true"}).resources
    filters = [
        condition["conditionThreshold"]["filter"]
        for alert in by_type(resources, ALERT)
        for condition in alert["inputs"]["conditions"]
        if "https_lb_rule" in condition["conditionThreshold"]["filter"]
    ]
    assert filters and all('resource.label.backend_target_name="qa-dev-backend"' in f for f in filters)


def test_a_single_region_behind_the_front_door_is_gated_through_it_too():
    single = {key: value for key, value in GATED.items() if key != "regions"}
    result = rendered("dev", single)
    assert result.outputs["candidateUrl"] == "https://qa.example.com/_rollout/candidate/us-central1"
    assert "candidateUrls" not in result.outputs  # one region: the gate compares with `url` itself
    assert set(routing(result.resources)) == {
        "/_rollout/candidate/us-central1/",
        "/_rollout/serving/us-central1/",
    }
