"""Several regions behind the global front door, rendered offline as `pulumi up` would declare
them, and checked against the provider schemas."""

from __future__ import annotations

import json
import re

import pytest
from infra_helpers import by_type, rendered
from provider_schema import problems

# The documented example (docs/multi-region.md).
TWO_REGIONS = {
    "regions": '["us-central1", "europe-west4"]',
    "loadBalancer": "true",
    "domain": "qa.example.com",
    "rateLimitPerMinute": "600",
}
PRIVATE_IAP = {**TWO_REGIONS, "public": "false", "iap": "true", "invokers": '["group:team@example.com"]'}
# A gated rollout's candidate phase: the front door also routes the gate (test_front_door_gate.py).
GATED = {**TWO_REGIONS, "rollout": "gated", "servingRevision": "qa-dev-r0123456789ab"}
RUN = "gcp:cloudrunv2/service:Service"
NEG = "gcp:compute/regionNetworkEndpointGroup:RegionNetworkEndpointGroup"
RULE = "gcp:compute/globalForwardingRule:GlobalForwardingRule"


def one(resources: list[dict], resource_type: str) -> dict:
    [found] = by_type(resources, resource_type)
    return found


@pytest.mark.parametrize(
    "overrides",
    [TWO_REGIONS, PRIVATE_IAP, GATED, {**PRIVATE_IAP, **GATED}],
    ids=["public", "iap", "gated", "gated-iap"],
)
def test_every_gcp_input_is_in_the_provider_schema(overrides):
    found = [
        problem
        for resource in rendered("dev", overrides).resources
        if resource["type"].startswith("gcp:")
        for problem in problems(resource["type"], resource["inputs"])
    ]
    assert found == []


def test_one_service_per_region_locked_to_the_load_balancer():
    resources = rendered("dev", TWO_REGIONS).resources
    services = {r["inputs"]["location"]: r for r in by_type(resources, RUN)}
    assert set(services) == {"us-central1", "europe-west4"}
    # gcp:region keeps the single-region stack's logical name: adding a region replaces nothing.
    assert services["us-central1"]["parent"] == "qa-dev"
    assert services["europe-west4"]["parent"] == "qa-dev-europe-west4"
    for service in services.values():
        assert service["inputs"]["ingress"] == "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
        assert service["inputs"]["defaultUriDisabled"] is True
        container = service["inputs"]["template"]["containers"][0]
        assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    # The same spec, hence the same revision, in every region.
    assert len({s["inputs"]["template"]["revision"] for s in services.values()}) == 1


def test_the_front_door_routes_to_a_serverless_neg_per_region():
    resources = rendered("dev", TWO_REGIONS).resources
    negs = by_type(resources, NEG)
    assert sorted((n["inputs"]["region"], n["inputs"]["networkEndpointType"]) for n in negs) == [
        ("europe-west4", "SERVERLESS"),
        ("us-central1", "SERVERLESS"),
    ]
    assert all(n["inputs"]["cloudRun"] == {"service": "qa-dev"} for n in negs)
    backend = one(resources, "gcp:compute/backendService:BackendService")["inputs"]
    assert backend["loadBalancingScheme"] == "EXTERNAL_MANAGED"
    assert sorted(b["group"].rsplit("/", 1)[1] for b in backend["backends"]) == sorted(
        n["inputs"]["name"] for n in negs
    )
    armor = one(resources, "gcp:compute/securityPolicy:SecurityPolicy")
    assert backend["securityPolicy"].endswith(f"/securityPolicies/{armor['inputs']['name']}")
    assert backend["outlierDetection"]["consecutiveErrors"] > 0 and backend["logConfig"]["enable"] is True
    throttle = armor["inputs"]["rules"][0]["rateLimitOptions"]
    assert throttle["rateLimitThreshold"] == {"count": 600, "intervalSec": 60}
    assert throttle["exceedAction"] == "deny(429)" and throttle["enforceOnKey"] == "IP"


def test_https_on_443_with_the_certificate_and_http_redirected_on_the_same_address():
    result = rendered("dev", TWO_REGIONS)
    resources = result.resources
    rules = {r["inputs"]["portRange"]: r["inputs"] for r in by_type(resources, RULE)}
    assert set(rules) == {"443", "80"}
    assert rules["443"]["ipAddress"] == rules["80"]["ipAddress"] == result.outputs["frontDoorIp"]
    https = one(resources, "gcp:compute/targetHttpsProxy:TargetHttpsProxy")["inputs"]
    assert rules["443"]["target"].endswith(f"/targetHttpsProxies/{https['name']}")
    certificate = one(resources, "gcp:compute/managedSslCertificate:ManagedSslCertificate")["inputs"]
    assert certificate["managed"]["domains"] == ["qa.example.com"]
    assert https["sslCertificates"] == [
        f"projects/example-project/global/sslCertificates/{certificate['name']}"
    ]
    maps = {m["name"]: m["inputs"] for m in by_type(resources, "gcp:compute/uRLMap:URLMap")}
    assert maps["qa-dev-front-door-redirect"]["defaultUrlRedirect"]["httpsRedirect"] is True
    assert result.outputs["url"] == "https://qa.example.com"
    assert set(result.outputs["regionUrls"]) == {"us-central1", "europe-west4"}


def test_a_public_front_door_lets_everyone_reach_each_service_only_through_it():
    resources = rendered("dev", TWO_REGIONS).resources
    grants = by_type(resources, "gcp:cloudrunv2/serviceIamMember:ServiceIamMember")
    assert sorted((g["inputs"]["location"], g["inputs"]["member"]) for g in grants) == [
        ("europe-west4", "allUsers"),
        ("us-central1", "allUsers"),
    ]


def test_iap_admits_the_invokers_and_only_its_agent_invokes_the_services():
    resources = rendered("dev", PRIVATE_IAP).resources
    backend = one(resources, "gcp:compute/backendService:BackendService")["inputs"]
    assert backend["iap"] == {"enabled": True}
    [accessor] = by_type(resources, "gcp:iap/webBackendServiceIamMember:WebBackendServiceIamMember")
    assert accessor["inputs"]["member"] == "group:team@example.com"
    assert accessor["inputs"]["webBackendService"] == backend["name"]
    grants = by_type(resources, "gcp:cloudrunv2/serviceIamMember:ServiceIamMember")
    assert len(grants) == 2
    assert all(g["inputs"]["member"].endswith("@gcp-sa-iap.iam.gserviceaccount.com") for g in grants)
    apis = {r["inputs"]["service"] for r in by_type(resources, "gcp:projects/service:Service")}
    assert {"compute.googleapis.com", "iap.googleapis.com"} <= apis


def test_zero_turns_the_throttle_off():
    resources = rendered("dev", {**TWO_REGIONS, "rateLimitPerMinute": "0"}).resources
    armor = one(resources, "gcp:compute/securityPolicy:SecurityPolicy")["inputs"]
    assert [rule["action"] for rule in armor["rules"]] == ["allow"]


def test_listing_gcp_region_alone_is_the_single_region_stack():
    """A stack that spells out its one region renders exactly what it did without the list."""
    alone = json.dumps(rendered("dev", {"regions": '["us-central1"]'}).resources, sort_keys=True)
    assert alone == json.dumps(rendered("dev").resources, sort_keys=True)
    [service] = by_type(rendered("dev").resources, RUN)
    assert service["parent"] == "qa-dev" and "defaultUriDisabled" not in service["inputs"]
    assert service["inputs"]["ingress"] == "INGRESS_TRAFFIC_ALL"
    assert service["inputs"]["template"]["containers"][0]["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert not by_type(rendered("dev").resources, NEG)


MONITORED = {**TWO_REGIONS, "monitoring": "true"}


def test_monitoring_has_slos_per_region_and_watches_the_front_door():
    resources = rendered("dev", MONITORED).resources
    services = by_type(resources, "gcp:monitoring/genericService:GenericService")
    assert sorted(s["inputs"]["basicService"]["serviceLabels"]["location"] for s in services) == [
        "europe-west4",
        "us-central1",
    ]
    assert len({s["inputs"]["serviceId"] for s in services}) == 2
    slos = by_type(resources, "gcp:monitoring/slo:Slo")
    assert len(slos) == 4  # availability and latency, per region
    text = json.dumps([r["inputs"] for r in by_type(resources, "gcp:monitoring/alertPolicy:AlertPolicy")])
    assert 'resource.label.url_map_name=\\"qa-dev-urlmap\\"' in text
    assert "loadbalancing.googleapis.com/https/request_count" in text
    assert "loadbalancing.googleapis.com/https/total_latencies" in text
    [uptime] = by_type(resources, "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig")
    assert uptime["inputs"]["monitoredResource"] == {
        "type": "uptime_url",
        "labels": {"host": "qa.example.com", "project_id": "example-project"},
    }


def test_behind_iap_no_uptime_check_knocks_on_the_sign_in_page():
    resources = rendered("dev", {**PRIVATE_IAP, "monitoring": "true"}).resources
    assert not by_type(resources, "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig")
    assert not [r for r in resources if r["name"].endswith("-uptime-invoker")]
    assert len(by_type(resources, "gcp:monitoring/slo:Slo")) == 4


def test_every_metric_the_front_door_alerts_name_is_catalogued():
    from infra.components.monitoring import catalog

    text = json.dumps([r["inputs"] for r in rendered("dev", MONITORED).resources])
    named = set(re.findall(r'metric\.type=\\*"([^"\\]+)', text))
    assert {"loadbalancing.googleapis.com/https/request_count"} < named
    assert named - set(catalog.METRICS) == set()


OLD = "qa-dev-r0123456789ab"
STAGED = {"regions": TWO_REGIONS["regions"], "rollout": "gated"}


def traffic(overrides: dict[str, str]) -> dict[str, list[tuple[str, int, str]]]:
    """Each region's traffic targets, with the new revision written NEW."""
    found = {}
    for service in by_type(rendered("dev", overrides).resources, RUN):
        new = service["inputs"]["template"]["revision"]
        found[service["inputs"]["location"]] = [
            ("NEW" if t["revision"] == new else t["revision"], t["percent"], t.get("tag", ""))
            for t in service["inputs"]["traffics"]
        ]
    return found


@pytest.mark.parametrize(
    ("phase", "expected"),
    [
        (
            {"servingRevision": OLD, "rolloutRegions": "1"},
            {"us-central1": [(OLD, 100, ""), ("NEW", 0, "candidate")], "europe-west4": [(OLD, 100, "")]},
        ),
        (
            {"servingRevision": OLD, "rolloutRegions": "1", "candidatePercent": "10"},
            {"us-central1": [(OLD, 90, ""), ("NEW", 10, "candidate")], "europe-west4": [(OLD, 100, "")]},
        ),
        (
            {"servingRevision": OLD, "rolloutRegions": "0"},
            {
                "us-central1": [(OLD, 100, ""), ("NEW", 0, "candidate")],
                "europe-west4": [(OLD, 100, ""), ("NEW", 0, "candidate")],
            },
        ),
        (
            {"servingRevision": "", "previousRevision": OLD, "rolloutRegions": "0"},
            {
                "us-central1": [("NEW", 100, ""), (OLD, 0, "previous")],
                "europe-west4": [("NEW", 100, ""), (OLD, 0, "previous")],
            },
        ),
    ],
    ids=["first-region-candidate", "first-region-canary", "every-region-candidate", "promoted"],
)
def test_each_rollout_phase_across_two_regions_renders_offline(phase, expected):
    overrides = {**STAGED, **phase}
    assert traffic(overrides) == expected
    for resource in by_type(rendered("dev", overrides).resources, RUN):
        assert problems(resource["type"], resource["inputs"]) == []
