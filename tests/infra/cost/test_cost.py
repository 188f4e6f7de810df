"""The cost model against examples worked by hand (the arithmetic is written out)."""

import math

import pytest

from infra import cost
from infra.cost import CostInputs, estimate, prices
from infra.cost.model import billed_seconds

S = 730 * 3600  # seconds in the 730-hour month: 2,628,000


def items(est):
    return {i.item: i for i in est.items}


def test_request_based_tier1_by_hand():
    inputs = CostInputs(cpu=1, memory_gib=0.5, concurrency=80, max_instances=10)
    r = estimate(inputs, rps=2, latency_ms=250)
    # 250 ms is billed as 300 ms. In flight: 2 × 0.25 = 0.5 → 1 instance needed.
    # Billed instances: max(2·0.3/80, 1 · (1 − e^(−2·0.3/1))) = 1 − e^(−0.6) = 0.451188…
    busy = 1 - math.exp(-0.6)
    assert r.instances_needed == 1
    assert r.serverless.billing == "request-based"
    assert r.serverless.instances == pytest.approx(busy)
    got = items(r.serverless)
    assert got["CPU, handling requests"].quantity == pytest.approx(busy * 1 * S)  # 1,185,723 vCPU-s
    assert got["CPU, handling requests"].cost == pytest.approx(busy * S * 0.000024)  # $28.46
    assert got["Memory, handling requests"].cost == pytest.approx(busy * 0.5 * S * 0.0000025)
    assert got["Requests"].cost == pytest.approx(2 * S * 0.40 / 1e6)  # 5,256,000 req → $2.10
    assert got["CPU, idle min instances"].quantity == 0
    assert r.serverless.total == pytest.approx(
        busy * S * 0.000024 + busy * 0.5 * S * 0.0000025 + 2 * S * 0.4e-6
    )
    assert round(r.serverless.total, 2) == 32.04  # 28.46 CPU + 1.48 memory + 2.10 requests
    # Always on: one such instance all month at instance-based rates:
    # 1 × S × 0.000018 + 0.5 × S × 0.000002 = 47.304 + 2.628 = 49.932
    assert r.always_on.total == pytest.approx(49.932)


def test_concurrency_one_bills_every_request_alone():
    inputs = CostInputs(cpu=2, memory_gib=3, concurrency=1, max_instances=2)
    r = estimate(inputs, rps=1, latency_ms=100)
    # No overlap possible: 1 req/s × 0.1 s = 0.1 billed instances (not 1 − e^(−0.1)).
    assert r.serverless.instances == pytest.approx(0.1)
    # 0.1 × S × (2 × 0.000024 + 3 × 0.0000025) + S × 0.4e-6 = 14.5854 + 1.0512 = 15.6366
    assert r.serverless.total == pytest.approx(15.6366)
    # Break-even with one always-on instance (2 × 0.000018 + 3 × 0.000002 = 4.2e-5 $/s):
    # request-based costs r × (0.1 × 5.55e-5 + 0.4e-6) = r × 5.95e-6 $/s → r = 7.0588 req/s.
    assert r.break_even_rps == pytest.approx(4.2e-5 / 5.95e-6, rel=1e-6)


def test_short_requests_are_billed_as_100_ms():
    inputs = CostInputs(cpu=1, memory_gib=1, concurrency=1)
    r = estimate(inputs, rps=0.01, latency_ms=30)
    assert r.serverless.instances == pytest.approx(0.01 * 0.1)  # 30 ms → 100 ms
    assert billed_seconds(0.1) == pytest.approx(0.1)
    assert billed_seconds(0.1001) == pytest.approx(0.2)


def test_idle_min_instances_at_the_idle_rate():
    inputs = CostInputs(cpu=2, memory_gib=4, concurrency=4, min_instances=1)
    r = estimate(inputs, rps=0, latency_ms=100)
    got = items(r.serverless)
    # Idle all month: 2 vCPU × S × 0.0000025 = 13.14; 4 GiB × S × 0.0000025 = 26.28.
    assert got["CPU, idle min instances"].cost == pytest.approx(13.14)
    assert got["Memory, idle min instances"].cost == pytest.approx(26.28)
    assert r.serverless.total == pytest.approx(39.42)
    # Always on: 2 × S × 0.000018 + 4 × S × 0.000002 = 94.608 + 21.024.
    assert r.always_on.total == pytest.approx(115.632)


def test_instance_based_gpu_tier1():
    inputs = CostInputs(
        cpu=4, memory_gib=16, gpu="nvidia-l4", cpu_always_allocated=True, region="europe-west4"
    )
    r = estimate(inputs, rps=1, latency_ms=100)
    # Traffic every second keeps the instance alive: 1 − e^(−1 × 900.1) = 1.
    assert r.serverless.billing == "instance-based"
    assert r.serverless.instances == pytest.approx(1.0)
    # 4 × S × 0.000018 + 16 × S × 0.000002 + S × 0.0001867 = 189.216 + 84.096 + 490.6476
    assert r.serverless.total == pytest.approx(763.9596)
    assert r.always_on.total == pytest.approx(763.9596)
    assert "Requests" not in items(r.serverless)
    assert r.break_even_rps is None  # a GPU service cannot use request-based billing


def test_instance_based_with_rare_traffic_is_alive_part_of_the_time():
    inputs = CostInputs(cpu=1, memory_gib=1, cpu_always_allocated=True)
    rps = 1 / 3600  # one request an hour
    r = estimate(inputs, rps=rps, latency_ms=100)
    # Each request keeps the instance ~900.1 s: alive 1 − e^(−900.1/3600) = 22.1 % of the time.
    alive = 1 - math.exp(-rps * 900.1)
    assert r.serverless.instances == pytest.approx(alive)
    assert r.serverless.total == pytest.approx(alive * S * (0.000018 + 0.000002))


def test_tier2_region_prices_and_gpu_fallback_note():
    r = estimate(CostInputs(cpu=1, memory_gib=1, concurrency=1, region="europe-west2"), 1, 100)
    assert r.tier == 2
    assert items(r.serverless)["CPU, handling requests"].unit_price == 0.0000336
    gpu = CostInputs(
        cpu=4, memory_gib=16, gpu="nvidia-l4", cpu_always_allocated=True, region="asia-southeast1"
    )
    r = estimate(gpu, 1, 100)
    assert items(r.serverless)["GPU nvidia-l4"].unit_price == prices.TIER_1.gpu_l4_s
    assert any("Tier 1 rate" in n for n in r.notes)


def test_traffic_above_max_instances_is_capped_and_said():
    r = estimate(CostInputs(cpu=1, memory_gib=1, concurrency=1, max_instances=3), 100, 100)
    # 100 req/s × 0.1 s = 10 in flight → 10 instances needed, only 3 allowed: all 3 busy.
    assert r.instances_needed == 10
    assert r.serverless.instances == pytest.approx(3)
    assert any("above max instances 3" in n for n in r.notes)


def test_free_tier_subtracts_the_allowances():
    inputs = CostInputs(cpu=1, memory_gib=0.5, concurrency=80)
    plain = estimate(inputs, rps=2, latency_ms=250)
    free = estimate(inputs, rps=2, latency_ms=250, free_tier=True)
    # 180,000 vCPU-s × 0.000024 + 360,000 GiB-s × 0.0000025 + 2,000,000 requests × 0.4e-6
    assert plain.serverless.total - free.serverless.total == pytest.approx(4.32 + 0.9 + 0.8)
    tiny = estimate(inputs, rps=0.001, latency_ms=100, free_tier=True)
    assert tiny.serverless.total == 0  # all within the free tier


def test_inputs_are_validated():
    with pytest.raises(ValueError, match="min instances"):
        CostInputs(cpu=1, memory_gib=1, min_instances=5, max_instances=2)
    with pytest.raises(ValueError, match="no price"):
        CostInputs(cpu=1, memory_gib=1, gpu="nvidia-h100")
    with pytest.raises(ValueError, match="rps"):
        estimate(CostInputs(cpu=1, memory_gib=1), rps=-1)


def test_markdown_names_prices_source_and_date():
    text = cost.render_markdown(estimate(CostInputs(cpu=1, memory_gib=0.5), 2, 250))
    assert "$32.04" in text
    assert "$49.93" in text
    assert prices.SOURCE_URL in text and prices.PRICES_AS_OF in text
    assert text.startswith("## Monthly cost estimate")


def test_dev_stack_settings_feed_the_model():
    from infra.settings import settings_from_stack_files as load_settings

    settings = load_settings("dev", {"cpu": "1", "memory": "2Gi", "minInstances": "1"})
    inputs = CostInputs.from_settings(settings)
    assert (inputs.cpu, inputs.memory_gib, inputs.min_instances) == (1.0, 2.0, 1)
    assert inputs.label == "dev"
    section = cost.cost_section(settings, rps=1)
    assert section.startswith("## Monthly cost estimate: stack dev")
    assert "idle min instances" in section


def test_manual_scaling_is_priced_as_its_fixed_instance_count():
    from infra.settings import settings_from_stack_files as load_settings

    settings = load_settings("dev", {"scalingMode": "manual", "manualInstances": "2", "maxInstances": "5"})
    inputs = CostInputs.from_settings(settings)
    assert (inputs.min_instances, inputs.max_instances) == (2, 2)
