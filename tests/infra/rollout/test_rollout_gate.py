"""The gate against two real service processes: one stands for the serving revision, one for the
candidate. Faults a real process does not produce on demand (5xx, slowness) come from
`rollout_faults.FaultProxy` in front of the candidate: a stand-in, the service behind it is real.

Latency does not decide these tests (budget inf): two identical processes on a shared machine can
differ by more than any budget a user would set. The decision is tested on fixed samples at the
shipped budget in test_rollout_latency.py; one test here shows the measurement reaching it."""

from __future__ import annotations

import math
import time
from contextlib import ExitStack

import pytest
import requests
from rollout_faults import MODEL_REVISION, FaultProxy

from bench.local_service import LocalService
from infra.rollout.canary import canary_step
from infra.rollout.gate import GOLDEN_PAYLOADS, LATENCY_BUDGET, GateConfig, run_gate

pytestmark = pytest.mark.slow


def config(**overrides) -> GateConfig:
    return GateConfig(
        **{
            "expected_model_revision": MODEL_REVISION,
            "ready_timeout_s": 5,
            "latency_rounds": 2,
            "latency_budget": math.inf,
            **overrides,
        }
    )


def gate(services, candidate: str, budget: float = math.inf, **faults):
    """Both behind a proxy, so both pay the same extra hop; faults only on the candidate's."""
    with ExitStack() as stack:
        serving = stack.enter_context(FaultProxy(services["serving"].url))
        target = stack.enter_context(FaultProxy(services[candidate].url, **faults))
        return run_gate(target.url, serving.url, config(latency_budget=budget))


def test_a_good_candidate_passes(services):
    verdict = gate(services, "good")
    assert verdict.passed, verdict.reason
    assert verdict.reason.startswith("gate passed:") and "no 5xx" in verdict.reason
    assert verdict.details["ready"]["model_revision"] == MODEL_REVISION


def test_another_model_giving_wrong_answers_is_held(services):
    verdict = gate(services, "other")
    assert not verdict.passed
    assert verdict.reason.startswith("wrong answers: ") and "golden requests differ" in verdict.reason
    assert "\n" not in verdict.reason


def test_a_candidate_answering_5xx_is_held(services):
    verdict = gate(services, "good", error_every=4)
    assert not verdict.passed
    assert verdict.reason.startswith("5xx: ") and "500 on POST /predict: injected fault" in verdict.reason


def test_a_slow_candidate_is_held_at_the_shipped_budget(services):
    """The wiring: measured samples reach the decision. The candidate's proxy holds each answer
    back by 4m, m the slowest of a dozen serving answers just before: with serving p50 x and the
    candidate's own time like it, x + 4m > 1.5x for any x < 8m (and 4m > 1.5x, even were the
    candidate instant, for x < 2.6m), so only a machine that slows down 2.6-8× mid-test flips it."""
    with FaultProxy(services["serving"].url) as serving, requests.Session() as session:
        times = []
        for payload in GOLDEN_PAYLOADS * 4:
            started = time.perf_counter()
            session.post(serving.url + "/predict", json=payload, timeout=30)
            times.append(time.perf_counter() - started)
    verdict = gate(services, "good", budget=LATENCY_BUDGET, delay_s=4 * max(times))
    assert not verdict.passed
    assert verdict.reason.startswith("too slow: candidate p50 ") and "budget 1.5×" in verdict.reason


def test_a_candidate_still_loading_is_held(services, tiny_model_factory, tmp_path):
    env = {"MODEL_REVISION": MODEL_REVISION}
    loading = LocalService(tiny_model_factory("distilbert", 0), tmp_path / "loading.log", env).start()
    try:
        # Asked while it starts (imports, model load): /ready is refused or 503 for the whole budget.
        verdict = run_gate(loading.url, services["serving"].url, config(ready_timeout_s=0.3))
    finally:
        loading.stop()
    assert not verdict.passed
    assert verdict.reason.startswith("not ready: GET /ready answered ") and "for 0.3 s" in verdict.reason


def test_a_candidate_reporting_another_model_revision_is_held(services):
    verdict = run_gate(
        services["good"].url, services["serving"].url, config(expected_model_revision="rev-new")
    )
    assert not verdict.passed
    assert verdict.reason == f"wrong model: /ready reports revision {MODEL_REVISION!r}, expected 'rev-new'"


def test_golden_file_expectations_replace_the_serving_revisions_answers(services):
    context = "Roses are red, violets are blue, sugar is sweet, and so are you."
    golden = [{"context": context, "question": "What is sugar?", "start": 0, "end": 5}]
    verdict = run_gate(services["good"].url, services["serving"].url, config(golden=golden))
    # The tiny random model does not answer "Roses": the file, not the serving revision, decided.
    assert not verdict.passed and verdict.reason.startswith("wrong answers: 1/1")


def test_canary_step_judges_the_error_ratio_from_the_metrics_source(services):
    with (
        FaultProxy(services["good"].url) as healthy,
        FaultProxy(services["good"].url, error_every=3) as flaky,
    ):
        ok = canary_step(healthy.url, "qa-rNEW", config(), source=healthy, soak_s=0.5, probe_interval_s=0.1)
        bad = canary_step(flaky.url, "qa-rNEW", config(), source=flaky, soak_s=0.5, probe_interval_s=0.1)
    assert ok.passed, ok.reason
    assert ok.reason.startswith("error ratio 0/") and "(fault proxy counts)" in ok.reason
    assert not bad.passed and bad.reason.startswith("error ratio ") and "budget 1.0%" in bad.reason
