"""The front door's pure builders: GCP names within their limit, the Cloud Armor rules."""

from __future__ import annotations

from infra import load_balancing, regions
from infra.components.front_door import rules

LONGEST_SERVICE_NAME = "q" * 49  # parse.SERVICE_NAME allows 49 characters


def test_every_name_fits_a_compute_resource_name_in_every_region():
    longest_region = max(regions.CLOUD_RUN_REGIONS, key=len)
    for suffix in (
        f"neg-{longest_region}",
        "backend",
        rules.certificate_suffix("qa.example.com"),
        "https-proxy",
    ):
        name = rules.compute_name(LONGEST_SERVICE_NAME, suffix)
        assert len(name) <= rules.COMPUTE_NAME_MAX and name.endswith(f"-{suffix}")
    assert rules.compute_name("qa", "backend") == "qa-backend"


def test_a_new_domain_gets_a_new_certificate_name():
    assert rules.certificate_suffix("a.example.com") != rules.certificate_suffix("b.example.com")


def test_the_throttle_counts_per_client_ip_a_minute_and_answers_429():
    throttle, default = rules.security_rules(600)
    assert throttle["action"] == "throttle" and throttle["priority"] < default["priority"]
    options = throttle["rate_limit_options"]
    assert options["enforce_on_key"] == "IP" and options["exceed_action"] == "deny(429)"
    assert options["rate_limit_threshold"] == {
        "count": 600,
        "interval_sec": load_balancing.RATE_LIMIT_INTERVAL_SECONDS,
    }
    assert default == {**default, "priority": rules.DEFAULT_RULE_PRIORITY, "action": "allow"}


def test_zero_leaves_only_the_default_rule():
    assert [rule["action"] for rule in rules.security_rules(0)] == ["allow"]


def test_member_names_are_stable_and_distinct():
    a, b = rules.member_slug("user:a@example.com"), rules.member_slug("user:b@example.com")
    assert a != b and a == rules.member_slug("user:a@example.com") and a.startswith("user-a-example-com-")
