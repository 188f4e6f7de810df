"""The gate's latency decision, on sample lists: at the shipped budget, no service, no clock.

Two identical services on a shared machine can differ by more than any budget a user would set,
so the decision is tested here, where the samples are fixed; test_rollout_gate.py keeps one
process test that the measurement reaches it."""

from __future__ import annotations

import argparse

import pytest

from infra.rollout import cli
from infra.rollout.gate import LATENCY_BUDGET, GateConfig, GateError, judge_latency, measure_latency

SERVING = [40.0, 38.0, 41.0, 39.0, 40.0, 120.0, 40.0, 42.0, 40.0, 39.0]  # p50 40 ms, one stall


def scaled(samples: list[float], factor: float) -> list[float]:
    return [s * factor for s in samples]


def test_the_shipped_budget_is_one_and_a_half_times_the_serving_median():
    assert LATENCY_BUDGET == 1.5
    assert GateConfig(expected_model_revision="r").latency_budget == LATENCY_BUDGET
    parser = argparse.ArgumentParser()
    cli.add_commands(parser.add_subparsers(dest="command"))
    assert parser.parse_args(["rollout", "prod"]).latency_budget == LATENCY_BUDGET


def test_a_candidate_at_exactly_the_budget_passes():
    # 1.5 × 40 = 60, exactly representable: the boundary belongs to the candidate.
    assert judge_latency(SERVING, scaled(SERVING, 1.5), LATENCY_BUDGET) == {
        "serving_p50_ms": 40.0,
        "candidate_p50_ms": 60.0,
    }


def test_a_candidate_just_over_the_budget_is_held_with_one_line():
    with pytest.raises(GateError) as held:
        judge_latency(SERVING, [60.5] * 10, LATENCY_BUDGET)
    assert str(held.value) == "too slow: candidate p50 60.5 ms vs serving 40.0 ms (budget 1.5×)"


def test_medians_decide_so_a_few_stalls_on_either_side_do_not():
    stalls = [40.0] * 7 + [900.0] * 3  # three of ten requests stalled: the median is still 40
    assert judge_latency(SERVING, stalls, LATENCY_BUDGET)["candidate_p50_ms"] == 40.0
    with pytest.raises(GateError, match="too slow"):
        judge_latency([10.0] * 7 + [900.0] * 3, [16.0] * 10, LATENCY_BUDGET)  # 16 > 1.5 × 10


def test_a_faster_candidate_passes_and_the_budget_is_the_one_given():
    assert judge_latency(SERVING, scaled(SERVING, 0.5), LATENCY_BUDGET)["candidate_p50_ms"] == 20.0
    with pytest.raises(GateError, match=r"\(budget 1\.2×\)"):
        judge_latency(SERVING, scaled(SERVING, 1.25), 1.2)
    assert judge_latency(SERVING, scaled(SERVING, 100), float("inf"))  # inf: latency never holds


def test_no_samples_is_an_error_not_a_pass():
    with pytest.raises(GateError, match="no latency samples"):
        judge_latency([], SERVING, LATENCY_BUDGET)
    with pytest.raises(GateError, match="no latency samples"):
        judge_latency(SERVING, [], LATENCY_BUDGET)


@pytest.mark.parametrize("text", ["0", "-1", "nan", "fast", ""])
def test_a_budget_must_be_a_factor_above_zero(text):
    with pytest.raises(argparse.ArgumentTypeError, match=r"expected a factor above 0, e\.g\. 1\.5"):
        cli.parse_budget(text)


class Recorder:
    """An endpoint that answers at once and notes who was asked, in order."""

    def __init__(self, name: str, calls: list[str]):
        self.name, self.calls = name, calls

    def predict(self, payload: dict) -> None:
        self.calls.append(f"{self.name}:{payload['question']}")


def test_measurement_warms_both_then_alternates_the_order_every_round():
    calls: list[str] = []
    payloads = [{"question": "a"}, {"question": "b"}]
    config = GateConfig(expected_model_revision="r", payloads=payloads, latency_rounds=2)
    serving, candidate = measure_latency(Recorder("S", calls), Recorder("C", calls), config)
    assert calls == [
        *["S:a", "C:a", "S:b", "C:b"],  # warm-up, not timed
        *["S:a", "C:a", "S:b", "C:b"],  # round 0: serving first
        *["C:a", "S:a", "C:b", "S:b"],  # round 1: candidate first
    ]
    assert len(serving) == len(candidate) == 4 and all(ms >= 0 for ms in serving + candidate)
