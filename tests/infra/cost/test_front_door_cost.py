"""What several regions and the front door add to the monthly estimate, worked by hand."""

from __future__ import annotations

import json

import pytest
from infra_helpers import make_settings

from infra.cost import front_door as fd
from infra.cost import prices as p

FRONT_DOOR = {"loadBalancer": "true", "domain": "qa.example.com", "public": "true"}
MONTH_S = p.HOURS_PER_MONTH * 3600


def test_a_single_region_adds_nothing():
    assert fd.front_door_cost(make_settings(), 1.0) is None
    assert fd.front_door_markdown(make_settings(), 1.0) == ""


def test_front_door_and_a_warm_instance_in_the_other_region():
    # gcp:region is europe-west1 in the test settings; us-west2 is Tier 2, europe-west1 Tier 1.
    settings = make_settings(
        **FRONT_DOOR, regions='["europe-west1", "us-west2"]', minInstances="1", cpu="2", memory="4Gi"
    )
    cost = fd.front_door_cost(settings, rps=2.0)
    items = {item.item: item.cost for item in cost.items}
    assert items["Global forwarding rules (443, 80)"] == pytest.approx(2 * 730 * 0.025)
    assert items["Cloud Armor policy"] == pytest.approx(5.0)
    assert items["Cloud Armor rules"] == pytest.approx(2 * 1.0)  # the throttle and the default rule
    assert items["Cloud Armor requests"] == pytest.approx(2.0 * MONTH_S / 1e6 * 0.75)
    idle = 2 * p.TIER_2.idle_cpu_vcpu_s + 4 * p.TIER_2.idle_memory_gib_s  # request-based: idle rate
    assert items["1 warm instance(s), us-west2"] == pytest.approx(idle * MONTH_S)
    assert cost.other_regions == ("us-west2",) and cost.total == pytest.approx(sum(items.values()))


def test_no_rate_limit_is_one_rule_fewer_and_scale_to_zero_regions_cost_nothing_idle():
    settings = make_settings(**FRONT_DOOR, regions='["europe-west1", "europe-west4"]', rateLimitPerMinute="0")
    items = {item.item: item.cost for item in fd.front_door_cost(settings, 0.0).items}
    assert items["Cloud Armor rules"] == pytest.approx(1.0)
    assert not any(name.startswith("0 warm") or "warm" in name for name in items)


def test_instance_based_billing_prices_the_warm_instances_at_the_instance_rate():
    settings = make_settings(
        regions='["europe-west1", "europe-west4"]', minInstances="2", cpuAlwaysAllocated="true"
    )
    [warm] = fd.front_door_cost(settings, 1.0).items
    rate = 2 * p.TIER_1.instance_cpu_vcpu_s + 3 * p.TIER_1.instance_memory_gib_s
    assert warm.cost == pytest.approx(2 * MONTH_S * rate)


def test_the_diff_shows_what_a_front_door_adds_to_the_bill(tmp_path):
    """The cost of a render, priced from its resources, agrees with the render's own estimate."""
    from infra_helpers import rendered

    from infra.cost.from_render import monthly_cost
    from infra.cost.model import REVIEW_RPS
    from infra.offline import diff

    base = rendered("dev", {"minInstances": "1"}).resources
    head = rendered(
        "dev", {"minInstances": "1", **FRONT_DOOR, "regions": '["us-central1", "europe-west4"]'}
    ).resources
    settings = make_settings(minInstances="1", **FRONT_DOOR, regions='["europe-west1", "europe-west4"]')
    added = fd.front_door_cost(settings, REVIEW_RPS).total
    assert monthly_cost(head, REVIEW_RPS) - monthly_cost(base, REVIEW_RPS) == pytest.approx(added, rel=1e-9)
    (tmp_path / "base.json").write_text(json.dumps(base))
    (tmp_path / "head.json").write_text(json.dumps(head))
    text = diff.diff_files("dev", tmp_path / "base.json", tmp_path / "head.json")
    assert text.rstrip().endswith(f"(+${added:,.2f})")
