"""Cloud Run and Knative platform limits as data, and the checks that use them.

Sources (checked 2026-11): cloud.google.com/run/docs/configuring/services/cpu, …/memory-limits,
…/about-concurrency, …/request-timeout, …/healthchecks, …/services/gpu; knative.dev config
defaults. Each check returns None when the value is fine, else the text of what *is* valid, so
`settings.py` can build one line that names the key, the value and the fix.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

# --- CPU -------------------------------------------------------------------------------------
CPU_MIN = 0.08
CPU_INTEGERS = (1, 2, 4, 6, 8)
# Memory ceiling (and floor) in MiB for each whole-vCPU size.
MEMORY_RANGE_MIB = {
    1: (128, 4 * 1024),
    2: (128, 8 * 1024),
    4: (2 * 1024, 16 * 1024),
    6: (4 * 1024, 24 * 1024),
    8: (4 * 1024, 32 * 1024),
}
MEMORY_MAX_MIB = 32 * 1024
# Below 1 vCPU: more than 512 MiB needs ≥ 0.5 vCPU, more than 1 GiB needs ≥ 1 vCPU.
FRACTIONAL_MEMORY_MAX_MIB = (512, 1024)  # (below 0.5 vCPU, 0.5 to 1 vCPU)

# --- requests, scaling, probes ---------------------------------------------------------------
CONCURRENCY_MAX = 1000
TIMEOUT_MAX_SECONDS = 3600
STARTUP_PROBE_BUDGET_MAX_SECONDS = 240  # failure_threshold × period_seconds, services
PROBE_PERIOD_MAX_SECONDS = 240
MAX_INSTANCES_CEILING = 1000  # per-service cap in the console; real ceiling is regional quota

# --- GPU ---------------------------------------------------------------------------------------
GPU_TYPES = ("nvidia-l4",)
GPU_MIN_CPU = 4
GPU_MIN_MEMORY_MIB = 16 * 1024

# --- Knative -----------------------------------------------------------------------------------
KNATIVE_DEFAULT_MAX_REVISION_TIMEOUT_SECONDS = 600

_QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$")
_TO_MIB = {
    None: 1 / (1024 * 1024),
    "Ki": 1 / 1024,
    "Mi": 1,
    "Gi": 1024,
    "Ti": 1024 * 1024,
    "k": 1000 / (1024 * 1024),
    "M": 1000**2 / (1024 * 1024),
    "G": 1000**3 / (1024 * 1024),
    "T": 1000**4 / (1024 * 1024),
}


@dataclass(frozen=True)
class Cpu:
    """A parsed CPU limit: `text` is what the platform gets, `vcpu` the number behind it."""

    text: str
    vcpu: float

    @property
    def whole(self) -> int:
        """vCPUs usable as threads: at least one."""
        return max(1, math.floor(self.vcpu))


def parse_cpu(text: str) -> Cpu | None:
    """'2', '0.5', '500m' → Cpu; anything else → None."""
    raw = text.strip()
    try:
        vcpu = int(raw[:-1]) / 1000 if raw.endswith("m") else float(raw)
    except ValueError:
        return None
    if not math.isfinite(vcpu):
        return None
    return Cpu(text=raw, vcpu=vcpu)


def parse_memory_mib(text: str) -> float | None:
    """A Kubernetes quantity ('3Gi', '512Mi', '4G') in MiB; None when it isn't one."""
    match = _QUANTITY.match(text.strip())
    if not match:
        return None
    return float(match.group(1)) * _TO_MIB[match.group(2)]


CPU_VALID = f"{CPU_MIN}…1 in steps of 0.001, or one of {', '.join(map(str, CPU_INTEGERS))}"


def check_cpu(cpu: Cpu | None) -> str | None:
    if cpu is None:
        return CPU_VALID
    if cpu.vcpu >= 1:
        return None if cpu.vcpu in CPU_INTEGERS else CPU_VALID
    return None if cpu.vcpu >= CPU_MIN and round(cpu.vcpu, 3) == cpu.vcpu else CPU_VALID


def memory_range_mib(cpu: Cpu) -> tuple[float, float]:
    """The memory limits (MiB) Cloud Run accepts with this CPU."""
    if cpu.vcpu >= 1:
        return MEMORY_RANGE_MIB[int(cpu.vcpu)]
    return (128, FRACTIONAL_MEMORY_MAX_MIB[0] if cpu.vcpu < 0.5 else FRACTIONAL_MEMORY_MAX_MIB[1])


def check_memory(cpu: Cpu, memory_mib: float) -> str | None:
    low, high = memory_range_mib(cpu)
    if low <= memory_mib <= high:
        return None
    return f"with cpu {cpu.text} use {format_mib(low)}…{format_mib(high)}"


def format_mib(mib: float) -> str:
    return f"{mib / 1024:g}Gi" if mib >= 1024 and mib % 1024 == 0 else f"{mib:g}Mi"


def startup_probe_budget(load_seconds: int, period_seconds: int) -> tuple[int, int]:
    """(failure_threshold, budget seconds) giving the model twice its expected load time.

    Twice, because a cold instance on a busy host loads slower than the laptop measurement the
    setting usually comes from; the probe still fails fast when the model never loads.
    """
    threshold = max(3, math.ceil(2 * load_seconds / period_seconds))
    return threshold, threshold * period_seconds
