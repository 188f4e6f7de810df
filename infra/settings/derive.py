"""Settings derived from `gpu` when the stack leaves them unset: `gpu: nvidia-l4` alone works.

The Pulumi CLI applies Pulumi.yaml's schema defaults before the program runs, so a real default
there (`cpu: "2"`) could not be told apart from a stack that wrote the same value. These keys
therefore default to an "unset" sentinel (`""`, or `0` for the integers). `build` reads the unset
keys as the config text `derived` gives them: the result is checked like any value a stack sets,
and a value the stack set that conflicts with the GPU fails in `checks.check_service` with one line.
docs/gpu.md has the table.
"""

from __future__ import annotations

from collections.abc import Mapping

from infra import limits
from infra.settings import autoscaling

# key -> (with a GPU, without one). GPU: Cloud Run's minimum size for an L4, instance-based
# billing (required), the runtime that runs on it, and batching (what a GPU is for).
BY_GPU: dict[str, tuple[str, str]] = {
    "cpu": (str(limits.GPU_MIN_CPU), "2"),
    "memory": (limits.format_mib(limits.GPU_MIN_MEMORY_MIB), "3Gi"),
    "cpuAlwaysAllocated": ("true", "false"),
    "runtime": (limits.GPU_RUNTIMES[0], "openvino"),  # CPU: the measured fastest, docs/openvino.md
    "batching": ("true", "false"),
}
UNSET = {key: "" for key in BY_GPU} | {"concurrency": "0", "maxBatchWindows": "0"}
# Requests in flight per instance: with a GPU enough to fill its batches; with batching on a
# CPU the most that still overlap usefully on a CPU-bound model (tokenizing while a batch fills),
# the same ceiling the policy pack advises; otherwise one (a CPU-bound model gains nothing by more).
GPU_CONCURRENCY = 16
CPU_BATCHING_CONCURRENCY = limits.CPU_BOUND_CONCURRENCY_MAX
CPU_CONCURRENCY = 1
# Rows per forward pass on a GPU: GPU_CONCURRENCY requests of one or two windows each. Without
# a GPU, 0 keeps the service's own default for its runtime (a CPU memory bound).
GPU_MAX_BATCH_WINDOWS = 32


def unset_keys(raw: Mapping[str, str]) -> frozenset[str]:
    """The derived keys the stack left at their sentinel (or that are not there at all)."""
    return frozenset(key for key in UNSET if raw.get(key) is None or raw[key].strip() == UNSET[key])


def derived(raw: Mapping[str, str], gpu: bool) -> dict[str, str]:
    """Config text for the keys `raw` left unset, with or without a gpu."""
    unset = unset_keys(raw)
    values = {key: pair[0] if gpu else pair[1] for key, pair in BY_GPU.items() if key in unset}
    batching = values.get("batching", raw.get("batching", "").strip()) == "true"
    if "concurrency" in unset:
        values["concurrency"] = str(
            GPU_CONCURRENCY if gpu else CPU_BATCHING_CONCURRENCY if batching else CPU_CONCURRENCY
        )
    if gpu and "maxBatchWindows" in unset:
        values["maxBatchWindows"] = str(GPU_MAX_BATCH_WINDOWS)
    return values


def fill(raw: Mapping[str, str]) -> tuple[dict[str, str], frozenset[str]]:
    """Config text for every key the stack left unset (its sentinel where nothing is derived),
    and the keys whose problems are consequences of the gpu's (with a gpu, all of them)."""
    gpu = bool(raw.get("gpu"))  # as `RawConfig.text` reads it: a blank gpu is refused as one
    values = derived(raw, gpu)
    return {key: UNSET[key] for key in unset_keys(raw)} | values, frozenset(values) if gpu else frozenset()


def shown(raw: Mapping[str, str]) -> dict[str, str]:
    """What each unset key became, and what `autoscaling: steady` filled in, as config text (for
    the review table)."""
    return derived(raw, bool(raw.get("gpu", "").strip())) | autoscaling.preset(raw)
