"""Settings derived from `gpu` when the stack leaves them unset: `gpu: nvidia-l4` alone works.

The Pulumi CLI applies Pulumi.yaml's schema defaults before the program runs, so a real default
there (`cpu: "2"`) could not be told apart from a stack that wrote the same value. These keys
therefore default to an "unset" sentinel (`""`, or `0` for the integers) and `derive` fills in
what the GPU, or its absence, needs, before parsing: the result is checked like any value a
stack sets, and a value the stack set that conflicts with the GPU fails in `checks.check_gpu`
with one line. docs/gpu.md has the table.
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
# CPU one per core of the default size; otherwise one (a CPU-bound model gains nothing by more).
GPU_CONCURRENCY = 16
CPU_BATCHING_CONCURRENCY = 4
CPU_CONCURRENCY = 1
# Rows per forward pass on a GPU: GPU_CONCURRENCY requests of one or two windows each. Without
# a GPU, 0 keeps the service's own default for its runtime (a CPU memory bound).
GPU_MAX_BATCH_WINDOWS = 32


def is_unset(raw: Mapping[str, str], key: str) -> bool:
    value = raw.get(key)
    return value is None or str(value).strip() == UNSET[key]


def derive(raw: Mapping[str, str]) -> dict[str, str]:
    """`raw` with every unset GPU-dependent key filled in; set keys are left as they are."""
    out = dict(raw)
    gpu = bool(str(raw.get("gpu", "")).strip())
    for key, (with_gpu, without) in BY_GPU.items():
        if is_unset(raw, key):
            out[key] = with_gpu if gpu else without
    if is_unset(raw, "concurrency"):
        batching = str(out["batching"]).strip().lower() == "true"
        concurrency = GPU_CONCURRENCY if gpu else CPU_BATCHING_CONCURRENCY if batching else CPU_CONCURRENCY
        out["concurrency"] = str(concurrency)
    if gpu and is_unset(raw, "maxBatchWindows"):
        out["maxBatchWindows"] = str(GPU_MAX_BATCH_WINDOWS)
    out.update(autoscaling.preset(raw))  # `autoscaling: steady`: what the stack left unset
    return out
