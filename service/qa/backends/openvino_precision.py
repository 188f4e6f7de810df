"""`precision: auto` for OpenVINO: bf16 or fp32 execution, decided on the instance by timing both.

Which one is faster depends on the CPU, and a Cloud Run service can neither choose nor query its
CPU platform (docs/openvino.md): on an AMD EPYC with AVX512_BF16 OpenVINO's bf16 ran a long
context in about half the time of its f32, on an Intel Xeon with AVX512_BF16 but no AMX it was
1.4-1.6x slower. So an `auto` image holds the fp32 IR (as fp32 and bf16 images do) and each
instance decides at start:

* a CPU whose OpenVINO capability report has no BF16 runs fp32 - nothing to measure;
* otherwise a probe - one encoder feed-forward block (768 -> 3072 -> 768 with GELU, the GEMMs
  that dominate a BERT-class model's time) on one window of PROBE_TOKENS tokens - is compiled
  once per candidate hint on PROBE_THREADS thread (both compiles run at once: compiling is
  mostly single-threaded), then passes alternate between the two until MIN_ROUNDS are done and
  either the ranking is settled - every pass of one candidate after its first beats every such
  pass of the other by the margin `pick` asks for, so all the passes so far make the same
  choice - or BUDGET_S is spent (at most MAX_ROUNDS). A near tie or a noisy pass runs on to the budget; a
  clear winner (on the AMD EPYC of docs/openvino.md bf16 ran the probe in about half fp32's
  time) costs MIN_ROUNDS rounds. A pass is timed by the CPU time of the thread that runs it (a
  one-thread compiled model infers on the calling thread): time the thread spends preempted by a
  busy host is not counted, which wall time would be - on a host loaded 6x over its two vCPUs,
  wall-clock passes were 3-5x inflated and ranked bf16 and f32 wrongly, their CPU time did not.
  Each candidate's fastest pass counts (the first pass sets up kernels). Should the pass not run
  on the calling thread (its CPU time is nil), wall time is used instead;
  `timed_by` says which;
* bf16 is kept only if it is at least BF16_MIN_GAIN faster: it moves a span now and then
  (docs/openvino.md), so on a near tie strict fp32 wins.

The probe, not the model itself, is timed because the model's own second compile and full-window
passes cost about a second on two vCPUs and hold a second copy of its weights; the probe costs
less (bench/studies/precision_probe.py measures it, docs/openvino.md has the numbers). A fixed
precision (`fp32`, `bf16`, `int8`) is never measured: it means exactly that precision.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from service.qa.backends.openvino_runtime import ov

ops = ov.opset13  # imported with openvino; `import openvino.opset13` would import it whole first

# Execution precisions `auto` chooses between, and the INFERENCE_PRECISION_HINT of each.
CANDIDATES = {"bf16": "bf16", "fp32": "f32"}
# 64 tokens, not a full window: the probe's bf16/f32 was 0.46-0.51 at 64 tokens, 0.49-0.54 at
# 128 and the model's own 0.46-0.54 at 384 (docs/openvino.md), and half the tokens halve the
# passes' cost.
PROBE_TOKENS = 64
PROBE_THREADS = 1  # so the pass runs on the calling thread and its CPU time can be read
PROBE_HIDDEN, PROBE_FFN = 768, 3072
MIN_ROUNDS, MAX_ROUNDS = 3, 8
BUDGET_S = 0.05  # for the timed rounds, after compiling
BF16_MIN_GAIN = 0.10
NO_BF16 = "this CPU has no bf16 support: fp32, not measured"
MEASURED = "measured: the faster of bf16 and fp32 on the probe"
# Below this, a pass's CPU time on the calling thread means the work ran on another thread.
MIN_THREAD_CPU_MS = 0.1

ConfigFor = Callable[[str], dict[str, str]]  # hint -> compile configuration
Timer = Callable[[ov.Core, ConfigFor], "ProbeTimings"]


@dataclass(frozen=True)
class ProbeTimings:
    fastest_ms: dict[str, float]  # per candidate
    rounds: int
    timed_by: str = "thread_cpu"  # or "wall"


@dataclass(frozen=True)
class PrecisionChoice:
    chosen: str  # "bf16" | "fp32"
    reason: str
    probe_ms: dict[str, float] = field(default_factory=dict)  # fastest timed pass per candidate
    rounds: int = 0
    timed_by: str = ""  # "thread_cpu" or "wall"; "" when not measured
    decide_ms: float = 0.0  # what deciding cost the start (wall time), compiles included

    def as_json(self) -> dict:
        return {
            "chosen": self.chosen,
            "reason": self.reason,
            "probe_ms": dict(self.probe_ms),
            "rounds": self.rounds,
            "timed_by": self.timed_by,
            "decide_ms": self.decide_ms,
        }


def pick(probe_ms: dict[str, float]) -> str:
    """bf16 only where it beats fp32 by BF16_MIN_GAIN on the probe."""
    return "bf16" if probe_ms["bf16"] < probe_ms["fp32"] * (1 - BF16_MIN_GAIN) else "fp32"


def decide(
    core: ov.Core,
    config_for: ConfigFor,
    *,
    has_bf16: bool,
    timer: Timer | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> PrecisionChoice:
    """The execution precision for `auto`; `config_for(hint)` is the compile configuration."""
    if not has_bf16:
        return PrecisionChoice(chosen="fp32", reason=NO_BF16)
    t0 = clock()
    timings = (timer or time_probe)(core, config_for)
    return PrecisionChoice(
        chosen=pick(timings.fastest_ms),
        reason=MEASURED,
        probe_ms={name: round(ms, 3) for name, ms in timings.fastest_ms.items()},
        rounds=timings.rounds,
        timed_by=timings.timed_by,
        decide_ms=round((clock() - t0) * 1000, 1),
    )


def time_probe(core: ov.Core, config_for: ConfigFor) -> ProbeTimings:
    """Compile the probe for each candidate and time passes of both, alternately."""
    weights = probe_weights()
    models = {name: build_probe(weights) for name in CANDIDATES}  # one ov.Model per thread
    compiled: dict[str, ov.CompiledModel] = {}
    errors: list[BaseException] = []

    def compile_one(name: str) -> None:
        try:
            compiled[name] = core.compile_model(models[name], "CPU", config_for(CANDIDATES[name]))
        except Exception as exc:  # raised below, on the loading thread
            errors.append(exc)

    threads = [
        threading.Thread(target=compile_one, args=(name,), name=f"probe-{name}") for name in CANDIDATES
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    feed = {"x": np.resize(_pattern(7919), (1, PROBE_TOKENS, PROBE_HIDDEN))}
    requests = {name: model.create_infer_request() for name, model in compiled.items()}
    runs = {name: (lambda request=request: request.infer(feed)) for name, request in requests.items()}
    return fastest(*time_rounds(runs))


def fastest(cpu: dict[str, list[float]], wall: dict[str, list[float]], rounds: int) -> ProbeTimings:
    """Each candidate's fastest pass by thread CPU time, or by wall time where the passes did not
    run on the timing thread."""
    passes, timed_by = timed(cpu, wall)
    return ProbeTimings({name: min(values) for name, values in passes.items()}, rounds, timed_by)


def timed(cpu: dict[str, list[float]], wall: dict[str, list[float]]) -> tuple[dict[str, list[float]], str]:
    """The passes' thread CPU times, or their wall times where a pass's CPU time says it ran on
    another thread; and which of the two."""
    if min(min(values) for values in cpu.values()) >= MIN_THREAD_CPU_MS:
        return cpu, "thread_cpu"
    return wall, "wall"


def settled(passes: dict[str, list[float]]) -> bool:
    """Whether every pairing of the passes so far makes the same `pick`: the winner's slowest pass
    still beats the loser's fastest by the margin. Each candidate's first pass (it sets up
    kernels) is left out, and two passes each after it are needed."""
    if min(len(values) for values in passes.values()) < 3:
        return False
    best = {name: min(values[1:]) for name, values in passes.items()}
    worst = {name: max(values[1:]) for name, values in passes.items()}
    bf16_clearly = pick({"bf16": worst["bf16"], "fp32": best["fp32"]}) == "bf16"
    fp32_clearly = pick({"bf16": best["bf16"], "fp32": worst["fp32"]}) == "fp32"
    return bf16_clearly or fp32_clearly


def time_rounds(
    runs: dict[str, Callable[[], object]],
    *,
    budget_s: float = BUDGET_S,
    min_rounds: int = MIN_ROUNDS,
    max_rounds: int = MAX_ROUNDS,
    clock: Callable[[], float] = time.perf_counter,
    cpu_clock: Callable[[], float] = time.thread_time,
) -> tuple[dict[str, list[float]], dict[str, list[float]], int]:
    """(CPU ms, wall ms, rounds): each run once per round, the order reversed every other round;
    after min_rounds, stops once the ranking is settled or budget_s of wall time is spent, and at
    max_rounds."""
    names = list(runs)
    cpu: dict[str, list[float]] = {name: [] for name in names}
    wall: dict[str, list[float]] = {name: [] for name in names}
    start = clock()
    rounds = 0
    while rounds < max_rounds and (
        rounds < min_rounds or (clock() - start < budget_s and not settled(timed(cpu, wall)[0]))
    ):
        for name in names if rounds % 2 == 0 else reversed(names):
            w0, c0 = clock(), cpu_clock()
            runs[name]()
            cpu[name].append((cpu_clock() - c0) * 1000)
            wall[name].append((clock() - w0) * 1000)
        rounds += 1
    return cpu, wall, rounds


def build_probe(weights: tuple[np.ndarray, np.ndarray]) -> ov.Model:
    """One encoder feed-forward block on one window: x @ W1 -> GELU -> @ W2, fp32 weights."""
    x = ops.parameter([1, PROBE_TOKENS, PROBE_HIDDEN], np.float32, name="x")
    w1, w2 = (ops.constant(w, shared_memory=True) for w in weights)
    hidden = ops.gelu(ops.matmul(x, w1, False, False), "erf")
    return ov.Model([ops.matmul(hidden, w2, False, False)], [x], "precision-probe")


def probe_weights() -> tuple[np.ndarray, np.ndarray]:
    """W1, W2 of the probe (fp32, 19 MB): made once per decision, shared by both candidates."""
    return (
        np.resize(_pattern(4099), (PROBE_HIDDEN, PROBE_FFN)),
        np.resize(_pattern(4111), (PROBE_FFN, PROBE_HIDDEN)),
    )


def _pattern(length: int) -> np.ndarray:
    # Values a trained layer could hold (|w| ~ 0.02); repeated with a prime period, so rows differ.
    # Cheaper than drawing millions of random numbers, and a dense GEMM's speed does not depend
    # on the values.
    return (np.sin(np.arange(length, dtype=np.float32)) * 0.02).astype(np.float32)
