"""Passing and failing fixtures for the front door rules: a rate limit on a public backend
service, no way around the load balancer, failover that service health can act on."""

from __future__ import annotations

from policy_helpers import CLOUD_RUN, SERVICE, case, res

BACKEND = "gcp:compute/backendService:BackendService"
ARMOR = "gcp:compute/securityPolicy:SecurityPolicy"
NEG = "gcp:compute/regionNetworkEndpointGroup:RegionNetworkEndpointGroup"
MATCH_ALL = {"versionedExpr": "SRC_IPS_V1", "config": {"srcIpRanges": ["*"]}}
ALLOW = {"priority": 2147483647, "action": "allow", "match": MATCH_ALL}
THROTTLE = {
    "priority": 1000,
    "action": "throttle",
    "match": MATCH_ALL,
    "rateLimitOptions": {
        "conformAction": "allow",
        "exceedAction": "deny(429)",
        "enforceOnKey": "IP",
        "rateLimitThreshold": {"count": 600, "intervalSec": 60},
    },
}
LOCKED = {"ingress": "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER", "defaultUriDisabled": True}
READY = {"template.containers.0.readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}}}
WARM = {**LOCKED, **READY, "template.scaling.minInstanceCount": 1}


def armor(name: str, rules: list[dict]):
    return res(ARMOR, name, {"name": name, "type": "CLOUD_ARMOR", "rules": rules})


def backend(name: str, changes: dict):
    return res(BACKEND, name, {"name": name, "loadBalancingScheme": "EXTERNAL_MANAGED"}, changes)


def policy_link(name: str) -> str:
    return f"projects/example-project/global/securityPolicies/{name}"


def neg(service: str, region: str):
    inputs = {"region": region, "networkEndpointType": "SERVERLESS", "cloudRun": {"service": service}}
    return res(NEG, f"neg-{service}-{region}", inputs)


def run(name: str, region: str, changes: dict):
    return res(CLOUD_RUN, name, SERVICE, {"name": name, "location": region, **changes})


CASES = [
    case(
        "frontdoor-rate-limit",
        [
            armor("armor-throttle", [THROTTLE, ALLOW]),
            armor("armor-allow", [ALLOW]),
            backend("limited", {"securityPolicy": policy_link("armor-throttle")}),
            backend("unlimited", {"securityPolicy": policy_link("armor-allow")}),
            backend("no-policy", {}),
            backend("behind-iap", {"iap": {"enabled": True}}),
        ],
        passing={"limited", "behind-iap"},
        failing={"unlimited", "no-policy"},
        ignored={"armor-throttle", "armor-allow"},
    ),
    case(
        "frontdoor-no-bypass",
        [
            neg("locked", "us-central1"),
            neg("open-ingress", "us-central1"),
            neg("uri-on", "europe-west4"),
            run("locked", "us-central1", LOCKED),
            run("open-ingress", "us-central1", {"defaultUriDisabled": True}),
            run("uri-on", "europe-west4", {"ingress": "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"}),
            # Same name as one behind a NEG, but in a region no NEG points at: not behind the door.
            run("standalone", "asia-east1", {"name": "locked"}),
        ],
        passing={"locked", "standalone"},
        failing={"open-ingress", "uri-on"},
        ignored={"neg-locked-us-central1", "neg-open-ingress-us-central1", "neg-uri-on-europe-west4"},
    ),
    case(
        "frontdoor-failover-ready",
        [
            neg("qa", "us-central1"),
            neg("qa", "europe-west4"),
            neg("qa", "asia-east1"),
            run("warm", "us-central1", {**WARM, "name": "qa"}),
            run("cold", "europe-west4", {**WARM, "name": "qa", "template.scaling.minInstanceCount": 0}),
            run("no-probe", "asia-east1", {**LOCKED, "name": "qa", "template.scaling.minInstanceCount": 1}),
            run("single-region", "us-west1", {"name": "other"}),
        ],
        passing={"warm", "single-region"},
        failing={"cold", "no-probe"},
        ignored={"neg-qa-us-central1", "neg-qa-europe-west4", "neg-qa-asia-east1"},
    ),
]
