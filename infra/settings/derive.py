"""Settings derived from `gpu` when the stack leaves them unset: `gpu: nvidia-l4` alone works.

The Pulumi CLI applies Pulumi.yaml's schema defaults before the program runs, so a real default
there (`cpu: "2"`) could not be told apart from a stack that wrote the same value. These keys
therefore default to an "unset" sentinel (`""`, or `0` for the integers). `build` parses what the
stack set, then fills the unset keys with typed values from `derived`: the result is checked like
any value a stack sets, and a value the stack set that conflicts with the GPU fails in
`checks.check_gpu` with one line. docs/gpu.md has the table.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from infra import limits
from infra.settings import autoscaling

# key -> (with a GPU, without one). GPU: Cloud Run's minimum size for an L4, instance-based
# billing (required), the runtime that runs on it, and batching (what a GPU is for).
BY_GPU: dict[str, tuple[object, object]] = {
    "cpu": (str(limits.GPU_MIN_CPU), "2"),
    "memory": (limits.format_mib(limits.GPU_MIN_MEMORY_MIB), "3Gi"),
    "cpuAlwaysAllocated": (True, False),
    "runtime": (limits.GPU_RUNTIMES[0], "openvino"),  # CPU: the measured fastest, docs/openvino.md
    "batching": (True, False),
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


def derived(gpu: bool, batching: bool, unset: Iterable[str]) -> dict[str, object]:
    """Typed values for the unset keys, by config key; `batching` as the stack set it."""
    unset = set(unset)
    values = {key: pair[0] if gpu else pair[1] for key, pair in BY_GPU.items() if key in unset}
    batching = bool(values.get("batching", batching))
    if "concurrency" in unset:
        values["concurrency"] = (
            GPU_CONCURRENCY if gpu else CPU_BATCHING_CONCURRENCY if batching else CPU_CONCURRENCY
        )
    if gpu and "maxBatchWindows" in unset:
        values["maxBatchWindows"] = GPU_MAX_BATCH_WINDOWS
    return values


def shown(raw: Mapping[str, str]) -> dict[str, str]:
    """What each unset key became, as config text (for the review table)."""
    gpu, batching = bool(raw.get("gpu", "").strip()), raw.get("batching", "").strip() == "true"
    values = derived(gpu, batching, unset_keys(raw))
    shown = {
        key: json.dumps(value) if isinstance(value, bool) else str(value) for key, value in values.items()
    }
    return shown | autoscaling.preset(raw)  # `autoscaling: steady`'s values
