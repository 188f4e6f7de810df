"""`precision: auto` on OpenVINO: the decision (forced timings), its report, and fixed precisions left alone.

The rules (pick, rounds, budget) are checked with a fake clock; the probe itself is compiled and
timed for real once; the backend tests bake the tiny checkpoint (slow) and force the probe's
timings, so which precision wins never depends on this CPU or its load.
"""

from __future__ import annotations

import itertools
import logging

import numpy as np
import openvino as ov
import pytest

from service import lifecycle, startup
from service.app import create_app
from service.cpu_platform import parse_cpuinfo, this_cpu
from service.qa.backends import openvino_precision as precision_auto
from service.qa.backends.openvino_backend import OpenVinoBackend, compile_config, cpu_has_bf16
from service.qa.model import QAModel
from service.qa.tokenization import QATokenizer
from service.settings import Settings

BF16_SLOWER = {"bf16": 30.0, "fp32": 20.0}  # e.g. AVX512_BF16 without AMX on an Intel Xeon
BF16_FASTER = {"bf16": 9.0, "fp32": 20.0}  # e.g. the AMD EPYC of docs/bench/
LOGGER = "service.qa.backends.openvino_backend"


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def spend(self, seconds: float):
        def run() -> None:
            self.now += seconds

        return run


def forced(timings: dict[str, float], rounds: int = 4):
    calls = []

    def timer(core, config_for):
        calls.append({name: config_for(hint) for name, hint in precision_auto.CANDIDATES.items()})
        return precision_auto.ProbeTimings(dict(timings), rounds)

    timer.calls = calls
    return timer


def never(core, config_for):
    raise AssertionError("a fixed precision or a CPU without bf16 must not be measured")


# --- the rules, no OpenVINO compile --------------------------------------------------------
@pytest.mark.parametrize(
    ("timings", "chosen"),
    [
        (BF16_SLOWER, "fp32"),
        (BF16_FASTER, "bf16"),
        ({"bf16": 19.0, "fp32": 20.0}, "fp32"),  # 5 % faster: under BF16_MIN_GAIN, strict fp32 wins
        ({"bf16": 17.0, "fp32": 20.0}, "bf16"),  # 15 % faster
    ],
)
def test_the_faster_candidate_is_kept_and_bf16_must_win_by_the_margin(timings, chosen):
    assert precision_auto.pick(timings) == chosen


def scripted(clock: FakeClock, order: list[str], name: str, ms: list[float]):
    """A run that spends `ms` on the fake clock in turn, over and over, and notes each call."""
    passes = itertools.cycle(ms)

    def go() -> None:
        order.append(name)
        clock.now += next(passes) / 1000

    return go


def test_rounds_alternate_the_order_and_stop_once_the_budget_is_spent():
    clock, order = FakeClock(), []
    # bf16's passes straddle the margin (8 ms beats 90 % of fp32's 10 ms, 12 ms does not): the
    # ranking never settles, so the budget ends the rounds
    runs = {
        "bf16": scripted(clock, order, "bf16", [12.0, 8.0]),
        "fp32": scripted(clock, order, "fp32", [10.0]),
    }
    cpu, wall, rounds = precision_auto.time_rounds(
        runs, budget_s=0.1, min_rounds=3, max_rounds=8, clock=clock, cpu_clock=clock
    )
    # 18-22 ms a round: four rounds leave 80 ms < 100 ms spent, the fifth ends past the budget
    assert rounds == 5
    assert order == ["bf16", "fp32", "fp32", "bf16", "bf16", "fp32", "fp32", "bf16", "bf16", "fp32"]
    assert cpu == wall
    assert cpu == {
        "bf16": [pytest.approx(ms) for ms in (12.0, 8.0, 12.0, 8.0, 12.0)],
        "fp32": [pytest.approx(10.0)] * 5,
    }


@pytest.mark.parametrize(
    ("bf16_ms", "fp32_ms", "winner"),
    [
        ([5.0, 4.0, 4.4], [9.0, 8.0, 7.9], "bf16"),  # every bf16 pass beats every fp32 pass by 10 %+
        ([30.0, 21.0, 20.0], [22.0, 20.0, 21.0], "fp32"),  # bf16's best is not 10 % under fp32's worst
    ],
)
def test_rounds_stop_after_min_rounds_once_the_ranking_is_settled(bf16_ms, fp32_ms, winner):
    clock, order = FakeClock(), []
    runs = {"bf16": scripted(clock, order, "bf16", bf16_ms), "fp32": scripted(clock, order, "fp32", fp32_ms)}
    timings = precision_auto.fastest(
        *precision_auto.time_rounds(
            runs, budget_s=10.0, min_rounds=3, max_rounds=8, clock=clock, cpu_clock=clock
        )
    )
    assert timings.rounds == 3  # the budget would have allowed 8
    assert precision_auto.pick(timings.fastest_ms) == winner


@pytest.mark.parametrize(
    ("passes", "is_settled"),
    [
        ({"bf16": [50.0, 4.0, 4.5], "fp32": [9.0, 8.0, 7.0]}, True),  # the first pass is left out
        ({"bf16": [5.0, 4.0, 6.4], "fp32": [9.0, 8.0, 7.0]}, False),  # 6.4 ms is not 10 % under 7.0
        ({"bf16": [5.0, 4.0], "fp32": [9.0, 8.0]}, False),  # one pass each after the first: too few
        ({"bf16": [9.0, 9.5, 9.9], "fp32": [9.0, 9.4, 10.0]}, True),  # bf16's best is not 10 % under
        ({"bf16": [9.0, 8.0, 9.9], "fp32": [9.0, 9.4, 9.0]}, False),  # 8.0 ms is: no choice yet
    ],
)
def test_the_ranking_is_settled_when_every_pass_pairing_picks_the_same(passes, is_settled):
    assert precision_auto.settled(passes) is is_settled


def test_passes_are_timed_by_thread_cpu_time_not_by_time_spent_preempted():
    wall_clock, cpu_clock = FakeClock(), FakeClock()

    def run(cpu_s: float, preempted_s: float):
        def go() -> None:
            cpu_clock.now += cpu_s
            wall_clock.now += cpu_s + preempted_s

        return go

    # bf16 twice as fast, but a busy host preempted its passes: wall time ranks it slower
    runs = {"bf16": run(0.004, 0.030), "fp32": run(0.008, 0.002)}
    timings = precision_auto.fastest(
        *precision_auto.time_rounds(runs, budget_s=0.0, clock=wall_clock, cpu_clock=cpu_clock)
    )
    assert timings.timed_by == "thread_cpu"
    assert timings.fastest_ms == {"bf16": pytest.approx(4.0), "fp32": pytest.approx(8.0)}
    assert precision_auto.pick(timings.fastest_ms) == "bf16"


def test_wall_time_is_used_where_the_passes_ran_on_another_thread():
    timings = precision_auto.fastest(
        {"bf16": [0.0, 0.01], "fp32": [0.0]}, {"bf16": [9.0, 8.0], "fp32": [5.0]}, 2
    )
    assert (timings.fastest_ms, timings.timed_by) == ({"bf16": 8.0, "fp32": 5.0}, "wall")


def test_rounds_run_at_least_min_rounds_and_at_most_max_rounds():
    clock = FakeClock()
    slow = {"bf16": clock.spend(1.0), "fp32": clock.spend(1.0)}
    assert precision_auto.time_rounds(slow, budget_s=0.05, min_rounds=3, max_rounds=8, clock=clock)[2] == 3
    # the wall clock never moves (no budget spent) and bf16's passes straddle the margin (never settled)
    cpu_clock, order = FakeClock(), []
    unsettled = {
        "bf16": scripted(cpu_clock, order, "bf16", [12.0, 8.0]),
        "fp32": scripted(cpu_clock, order, "fp32", [10.0]),
    }
    rounds = precision_auto.time_rounds(
        unsettled, budget_s=0.05, min_rounds=3, max_rounds=8, clock=clock, cpu_clock=cpu_clock
    )[2]
    assert rounds == 8


@pytest.mark.parametrize(("timings", "chosen"), [(BF16_SLOWER, "fp32"), (BF16_FASTER, "bf16")])
def test_decide_reports_the_choice_both_timings_and_its_own_cost(timings, chosen):
    clock = FakeClock()

    def timer(core, config_for):
        clock.now += 0.125  # what compiling and timing the probe took
        return precision_auto.ProbeTimings(timings, 5)

    choice = precision_auto.decide(None, lambda hint: {}, has_bf16=True, timer=timer, clock=clock)
    assert choice.as_json() == {
        "chosen": chosen,
        "reason": precision_auto.MEASURED,
        "probe_ms": timings,
        "rounds": 5,
        "timed_by": "thread_cpu",
        "decide_ms": 125.0,
    }


def test_a_cpu_without_bf16_runs_fp32_unmeasured():
    choice = precision_auto.decide(None, lambda hint: {}, has_bf16=False, timer=never)
    assert (choice.chosen, choice.reason, choice.probe_ms, choice.decide_ms) == (
        "fp32",
        precision_auto.NO_BF16,
        {},
        0.0,
    )


def test_the_probe_compiles_both_hints_and_times_both_by_thread_cpu_time():
    core = ov.Core()
    configs = []

    def config_for(hint: str) -> dict[str, str]:
        configs.append(hint)
        return compile_config(precision_auto.PROBE_THREADS, hint, None)

    timings = precision_auto.time_probe(core, config_for)
    assert sorted(configs) == ["bf16", "f32"]
    assert set(timings.fastest_ms) == {"bf16", "fp32"} and all(ms > 0 for ms in timings.fastest_ms.values())
    assert precision_auto.MIN_ROUNDS <= timings.rounds <= precision_auto.MAX_ROUNDS
    # a one-thread compiled model infers on the calling thread, whose CPU time is then readable
    assert timings.timed_by == "thread_cpu"


def test_the_probe_is_a_feed_forward_block_of_one_window():
    model = precision_auto.build_probe(precision_auto.probe_weights())
    assert list(model.inputs[0].get_shape()) == [1, precision_auto.PROBE_TOKENS, precision_auto.PROBE_HIDDEN]
    assert [op.get_type_name() for op in model.get_ordered_ops()].count("MatMul") == 2
    w1, w2 = precision_auto.probe_weights()
    assert w1.shape == (precision_auto.PROBE_HIDDEN, precision_auto.PROBE_FFN) and w2.shape == w1.shape[::-1]
    assert w1.dtype == np.float32 and 0.0 < np.abs(w1).max() <= 0.02 and len(np.unique(w1[:, 0])) > 100


def test_cpu_description_from_cpuinfo():
    cpu = parse_cpuinfo(
        "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 207\n"
        "model name\t: INTEL(R) XEON(R) PLATINUM 8581C CPU @ 2.10GHz\n"
        "flags\t\t: fpu avx2 avx512f avx512_vnni avx512_bf16\nprocessor\t: 1\n"
    )
    assert cpu.summary() == (
        "INTEL(R) XEON(R) PLATINUM 8581C CPU @ 2.10GHz (family 6 model 207; 2 CPUs; "
        "AVX-512, VNNI, AVX512_BF16; no AMX)"
    )
    assert cpu.as_json()["features"] == ["AVX-512", "VNNI", "AVX512_BF16"]
    assert cpu.as_json()["lacks"] == ["AMX"]
    assert parse_cpuinfo("").summary() == "unknown"


# --- the backend, on a baked checkpoint ------------------------------------------------------
@pytest.mark.slow  # bakes an ONNX export + IR
@pytest.mark.parametrize(
    ("timings", "chosen", "hint"), [(BF16_SLOWER, "fp32", "f32"), (BF16_FASTER, "bf16", "bf16")]
)
def test_auto_compiles_the_model_in_the_precision_the_probe_found_faster(
    baked_model_factory, timings, chosen, hint
):
    timer = forced(timings)
    backend = OpenVinoBackend(
        baked_model_factory("openvino", "auto"),
        num_threads=1,
        precision="auto",
        bf16_probe=lambda core: True,
        precision_timer=timer,
    )
    assert len(timer.calls) == 1
    assert timer.calls[0] == {  # one thread (timed by its CPU time), never a compiled-blob cache
        "bf16": compile_config(precision_auto.PROBE_THREADS, "bf16", None),
        "fp32": compile_config(precision_auto.PROBE_THREADS, "f32", None),
    }
    assert (backend.precision, backend.execution_precision) == ("auto", chosen)
    assert backend.describe()["precision_choice"]["chosen"] == chosen
    if hint == "f32" or cpu_has_bf16(ov.Core()):  # where the CPU lacks bf16 OpenVINO says f32
        assert backend.compiled.get_property("INFERENCE_PRECISION_HINT").to_string() == hint


@pytest.mark.slow
def test_ready_and_the_start_up_log_lines_report_choice_timings_and_cpu(baked_model_factory, caplog):
    model_dir = baked_model_factory("openvino", "auto")
    with caplog.at_level(logging.INFO):
        backend = OpenVinoBackend(
            model_dir,
            num_threads=1,
            precision="auto",
            bf16_probe=lambda core: True,
            precision_timer=forced(BF16_SLOWER),
        )
        model = QAModel(QATokenizer(model_dir), backend, use_token_type_ids=False)
        settings = Settings(
            model_dir=model_dir, model_id="test/tiny-qa", model_revision="0123abc", runtime="openvino"
        )
        ready = create_app(settings, model=model).test_client().get("/ready").get_json()
    choice = {
        "chosen": "fp32",
        "reason": precision_auto.MEASURED,
        "probe_ms": BF16_SLOWER,
        "rounds": 4,
        "timed_by": "thread_cpu",
    }
    assert (ready["backend"], ready["precision"], ready["execution_precision"]) == (
        "openvino",
        "auto",
        "fp32",
    )
    reported = ready["precision_choice"]
    assert {key: reported[key] for key in choice} == choice and reported["decide_ms"] >= 0
    assert ready["cpu"] == this_cpu().as_json() and ready["cpu"]["summary"] == this_cpu().summary()

    decided = [r for r in caplog.records if r.getMessage() == "openvino precision decided"]
    assert len(decided) == 1
    assert {key: getattr(decided[0], key) for key in choice} == choice
    assert decided[0].cpu == this_cpu().summary()
    ready_line = next(r for r in caplog.records if r.getMessage() == "model ready")
    assert ready_line.precision_choice == reported and ready_line.execution_precision == "fp32"
    assert ready_line.cpu == this_cpu().summary()


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["fp32", "bf16", "int8"])
def test_a_fixed_precision_is_never_measured(baked_model_factory, caplog, precision):
    with caplog.at_level(logging.INFO, logger=LOGGER):
        backend = OpenVinoBackend(
            baked_model_factory("openvino", precision),
            num_threads=1,
            precision=precision,
            precision_timer=never,
        )
    assert backend.choice is None and "precision_choice" not in backend.describe()
    assert "openvino precision decided" not in [r.getMessage() for r in caplog.records]


@pytest.mark.slow
def test_auto_on_a_cpu_without_bf16_runs_fp32_without_measuring(baked_model_factory):
    backend = OpenVinoBackend(
        baked_model_factory("openvino", "auto"),
        num_threads=1,
        precision="auto",
        bf16_probe=lambda core: False,
        precision_timer=never,
    )
    assert backend.execution_precision == "fp32" and backend.fallback is None
    assert backend.describe()["precision_choice"]["reason"] == precision_auto.NO_BF16
    assert backend.compiled.get_property("INFERENCE_PRECISION_HINT").to_string() == "f32"


@pytest.mark.slow
def test_auto_answers_as_the_precision_it_chose(baked_model_factory):
    """The auto IR is the fp32 one: choosing fp32 gives fp32's logits bit for bit."""
    auto = OpenVinoBackend(
        baked_model_factory("openvino", "auto"),
        num_threads=1,
        precision="auto",
        precision_timer=forced(BF16_SLOWER),
    )
    fp32 = OpenVinoBackend(baked_model_factory("openvino", "fp32"), num_threads=1, precision="fp32")
    ids = np.array([[2, *range(40, 80), 3, *range(120, 160), 3]], dtype=np.int64)
    feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
    assert all(np.array_equal(a, b) for a, b in zip(auto(feeds), fp32(feeds), strict=True))


@pytest.mark.slow
def test_the_decision_is_start_up_work_beside_the_model_load(baked_model_factory):
    before = startup.work().get("precision_decision", 0.0)
    model_dir = baked_model_factory("openvino", "auto")
    settings = Settings(
        model_dir=model_dir, model_id="test/tiny-qa", model_revision="0123abc", runtime="openvino"
    )
    model = lifecycle.load_model(settings)
    recorded = startup.work()["precision_decision"] - before
    assert recorded == pytest.approx(model.backend.choice.decide_ms / 1000) and recorded > 0
