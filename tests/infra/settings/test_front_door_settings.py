"""Settings for several regions and the front door: defaults, and every mistake in one line that
names the key, the value and what is valid."""

from __future__ import annotations

import pytest
from infra_helpers import make_settings

from infra import load_balancing
from infra.settings import SettingsError

FRONT_DOOR = {"loadBalancer": "true", "domain": "qa.example.com", "public": "true"}


def problems(**overrides: str) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        make_settings(**overrides)
    return caught.value.problems


def test_defaults_run_in_gcp_region_alone_without_a_front_door():
    settings = make_settings()
    assert settings.regions == ("europe-west1",)
    assert not settings.front_door.enabled
    assert settings.front_door.rate_limit_per_minute > 0  # on by default once the front door is


def test_regions_keep_their_order_and_the_front_door_its_settings():
    settings = make_settings(
        regions='["us-central1", "europe-west4"]',
        rateLimitPerMinute="120",
        domain="QA.Example.com",
        **{k: v for k, v in FRONT_DOOR.items() if k != "domain"},
    )
    assert settings.regions == ("us-central1", "europe-west4")
    assert settings.front_door.domain == "qa.example.com"
    assert settings.front_door.rate_limit_per_minute == 120


@pytest.mark.parametrize(
    ("overrides", "line"),
    [
        ({"regions": '["us-central1", "us-central1"]'}, 'regions: "us-central1" is not valid — listed once'),
        (
            {"regions": '["us-central1", "mars-north1"]'},
            'regions: "mars-north1" is not valid — a Cloud Run region',
        ),
        ({"regions": '["us-central1-a"]'}, 'regions: "us-central1-a" is not valid — a region, not a zone'),
        ({"regions": '"us-central1"'}, 'regions: "\\"us-central1\\"" is not valid — a list of strings'),
        (
            {"regions": '["us-central1", "us-west1"]', "gpu": "nvidia-l4"},
            'regions: "us-west1" is not valid — empty in us-west1: Cloud Run has nvidia-l4 GPUs only in',
        ),
        (
            {"domain": "qa.example.com"},
            'domain: "qa.example.com" is not valid — "" without `loadBalancer: true`',
        ),
        ({"iap": "true"}, "iap: true is not valid — false without `loadBalancer: true`"),
        (
            {**FRONT_DOOR, "domain": ""},
            'domain: "" is not valid — the host the front door\'s managed certificate',
        ),
        ({**FRONT_DOOR, "domain": "qa_example"}, 'domain: "qa_example" is not valid — a DNS name you own'),
        ({**FRONT_DOOR, "public": "false"}, "loadBalancer: true is not valid — false for a private service"),
        ({**FRONT_DOOR, "iap": "true"}, "iap: true is not valid — false with `public: true`"),
        (
            {**FRONT_DOOR, "public": "false", "iap": "true"},
            "invokers: [] is not valid — the members IAP admits",
        ),
        (
            {**FRONT_DOOR, "ingress": "internal"},
            'ingress: "internal" is not valid — all or internal-and-cloud',
        ),
        (
            {**FRONT_DOOR, "rateLimitPerMinute": str(load_balancing.RATE_LIMIT_COUNT_MAX + 1)},
            f"rateLimitPerMinute: {load_balancing.RATE_LIMIT_COUNT_MAX + 1} is not valid — a whole number 0…",
        ),
        ({**FRONT_DOOR, "platform": "knative"}, "loadBalancer: true is not valid — false on knative"),
        (
            {"platform": "knative", "regions": '["europe-west1", "us-central1"]'},
            'regions: ["europe-west1", "us-central1"] is not valid — [] or ["europe-west1"] on knative',
        ),
    ],
)
def test_each_mistake_fails_in_one_line_naming_the_key(overrides, line):
    found = problems(**overrides)
    matching = [p for p in found if p.startswith(line)]
    assert len(matching) == 1, found
    assert "\n" not in matching[0]


def test_a_private_front_door_admits_the_invokers_through_iap():
    settings = make_settings(
        **{**FRONT_DOOR, "public": "false", "iap": "true"}, invokers='["group:t@example.com"]'
    )
    assert settings.front_door.iap and settings.access.invokers == ("group:t@example.com",)


def test_the_rate_limit_turns_off_with_zero():
    assert make_settings(**FRONT_DOOR, rateLimitPerMinute="0").front_door.rate_limit_per_minute == 0
