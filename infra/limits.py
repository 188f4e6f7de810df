"""Cloud Run, Knative and GPU platform limits as data, the service's own accepted bounds, and
the checks that use them.

Sources (checked 2026-11): cloud.google.com/run/docs/configuring/services/cpu, …/memory-limits,
…/about-concurrency, …/request-timeout, …/healthchecks, …/services/gpu; knative.dev config
defaults. Each check returns None when the value is fine, else the text of what *is* valid, so
`settings.py` can build one line that names the key, the value and the fix.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

# The service's side of the contract: what its Settings.from_env accepts. A stack limit is the
# tighter of the platform's and the service's, so a stack that passes the checks renders a
# revision that can start.
from service import bounds as service_bounds

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
# Below 1 vCPU: more than 512 MiB needs ≥ 0.5 vCPU, more than 1 GiB needs ≥ 1 vCPU.
FRACTIONAL_MEMORY_MAX_MIB = (512, 1024)  # (below 0.5 vCPU, 0.5 to 1 vCPU)

# --- requests, scaling, probes ---------------------------------------------------------------
CLOUD_RUN_CONCURRENCY_MAX = 1000
CONCURRENCY_MAX = min(CLOUD_RUN_CONCURRENCY_MAX, service_bounds.CONCURRENCY[1])
CONCURRENCY_WHY = (
    f" (the service runs at most {service_bounds.CONCURRENCY[1]} requests at once)"
    if CONCURRENCY_MAX < CLOUD_RUN_CONCURRENCY_MAX
    else ""
)
# A CPU-bound model gains no throughput from more requests at once than it can overlap (one
# tokenizing while another runs, or a batch filling): more only queue inside the instance instead
# of starting another. The policy pack advises at most this on a CPU-only service.
CPU_BOUND_CONCURRENCY_MAX = 4
MAX_CONTEXT_CHARS = (
    max(100, service_bounds.MAX_CONTEXT_CHARS[0]),
    min(1_000_000, service_bounds.MAX_CONTEXT_CHARS[1]),
)
LOG_LEVELS = service_bounds.LOG_LEVELS
MODEL_LABEL_MAX_CHARS = service_bounds.LABEL_MAX_CHARS  # modelId, modelRevision (rendered as env)
TIMEOUT_MAX_SECONDS = 3600
STARTUP_PROBE_BUDGET_MAX_SECONDS = 240  # failure_threshold × period_seconds, services
MAX_INSTANCES_CEILING = 1000  # per-service cap in the console; real ceiling is regional quota

# --- Cloud Monitoring --------------------------------------------------------------------------
SLO_GOAL_MAX = 0.999  # the SLO API's upper bound on `goal`
SLO_PERIOD_MAX_DAYS = 30  # rolling periods of 1…30 days

# --- GPU ---------------------------------------------------------------------------------------
GPU_TYPES = ("nvidia-l4",)
GPU_RESOURCE = "nvidia.com/gpu"  # the extended resource a container limits and a node taint name
GPU_RUNTIMES = ("torch",)  # the ONNX Runtime and OpenVINO images run on CPU only
# Dynamic batching (service/batching.py): what the service accepts.
MAX_BATCH_WINDOWS = service_bounds.MAX_BATCH_WINDOWS
# Windows one request may need (the service answers 413 past it): what a request costs at most.
MAX_WINDOWS = service_bounds.MAX_WINDOWS
DEFAULT_MAX_WINDOWS = service_bounds.DEFAULT_MAX_WINDOWS
BATCH_MAX_WAIT_MS = service_bounds.BATCH_MAX_WAIT_MS

# --- image builds ------------------------------------------------------------------------------
BUILDERS = ("docker", "cloudbuild")
GPU_MIN_CPU = 4
GPU_MIN_MEMORY_MIB = 16 * 1024

# cloud.google.com/run/docs/configuring/services/memory-limits, …/about-execution-environments
# (checked 2026-12): the second generation needs at least 512 MiB; the first allows 128 MiB.
GEN2_MIN_MEMORY_MIB = 512
# cloud.google.com/kubernetes-engine/docs/concepts/release-channels (checked 2026-12); EXTENDED
# keeps a minor version for up to 24 months.
GKE_RELEASE_CHANNELS = ("RAPID", "REGULAR", "STABLE", "EXTENDED")

# --- Knative -----------------------------------------------------------------------------------
KNATIVE_DEFAULT_MAX_REVISION_TIMEOUT_SECONDS = 600

_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?\Z")  # ASCII digits only
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
    if not re.fullmatch(r"[0-9.]+m?", raw):  # float() would take "２", "1_0" and "nan"
        return None
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


# --- GKE nodes (for Knative) -------------------------------------------------------------------
# cloud.google.com/kubernetes-engine/docs/concepts/plan-node-sizes: what GKE keeps back on each
# node for the kubelet, the container runtime and the OS, as (size of the tier, share reserved).
GKE_CPU_RESERVED_TIERS = ((1, 0.06), (1, 0.01), (2, 0.005), (math.inf, 0.0025))  # vCPU tiers
GKE_MEMORY_RESERVED_TIERS = (  # MiB tiers
    (4 * 1024, 0.25),
    (4 * 1024, 0.20),
    (8 * 1024, 0.10),
    (112 * 1024, 0.06),
    (math.inf, 0.02),
)
GKE_EVICTION_THRESHOLD_MIB = 100
# What the per-node DaemonSets of a Standard cluster with Dataplane V2 and Cloud Logging /
# Monitoring request (anetd, fluentbit-gke, gke-metrics-agent, pdcsi-node, …), rounded up: the
# model pod gets what is left. An estimate that errs on the side of "does not fit".
GKE_DAEMONSET_VCPU = 0.4
GKE_DAEMONSET_MIB = 512
# Knative adds a queue-proxy sidecar to every pod (config-deployment queue-sidecar-cpu-request).
KNATIVE_QUEUE_PROXY_VCPU = 0.025
# Knative's activator drains for this long on shutdown (its terminationGracePeriodSeconds), so a
# longer request would be cut whenever Knative itself is upgraded: the stack sets
# max-revision-timeout-seconds to it and keeps timeoutSeconds at or under it.
KNATIVE_MAX_REVISION_TIMEOUT_SECONDS = KNATIVE_DEFAULT_MAX_REVISION_TIMEOUT_SECONDS

# Machine types by naming rule, FAMILY-SHAPE-VCPUS: memory per vCPU in GiB (cloud.google.com/
# compute/docs/machine-resource). Shared-core types (e2-medium…) are too small for the model.
MACHINE_FAMILIES = ("e2", "n1", "n2", "n2d", "n4", "c2", "c2d", "c3", "c3d", "c4", "t2d", "g2")
_GIB_PER_VCPU = {
    "standard": {"n1": 3.75},
    "highmem": {"n1": 6.5},
    "highcpu": {"n1": 0.9, "c3": 2, "c3d": 2, "c4": 2},
}
_GIB_PER_VCPU_DEFAULT = {"standard": 4, "highmem": 8, "highcpu": 1}
_MACHINE_TYPE = re.compile(rf"^({'|'.join(MACHINE_FAMILIES)})-(standard|highmem|highcpu)-(\d+)$")
MACHINE_TYPE_VALID = (
    "a GCE machine type FAMILY-standard|highmem|highcpu-VCPUS, e.g. e2-standard-4 "
    f"(families {', '.join(MACHINE_FAMILIES)})"
)
# G2 machines carry NVIDIA L4 GPUs: vCPUs → GPUs per node.
L4_MACHINE_GPUS = {4: 1, 8: 1, 12: 1, 16: 1, 24: 2, 32: 1, 48: 4, 96: 8}
GPU_MACHINE_VALID = "a G2 machine type (NVIDIA L4): " + ", ".join(f"g2-standard-{n}" for n in L4_MACHINE_GPUS)


@dataclass(frozen=True)
class MachineType:
    name: str
    vcpu: int
    memory_mib: float

    @property
    def family(self) -> str:
        return self.name.split("-", 1)[0]

    @property
    def l4_gpus(self) -> int:
        return L4_MACHINE_GPUS.get(self.vcpu, 0) if self.family == "g2" else 0


def parse_machine_type(name: str) -> MachineType | None:
    match = _MACHINE_TYPE.match(name.strip())
    if not match or int(match.group(3)) < 1:
        return None
    family, shape, vcpu = match.group(1), match.group(2), int(match.group(3))
    gib = _GIB_PER_VCPU[shape].get(family, _GIB_PER_VCPU_DEFAULT[shape])
    return MachineType(name=match.group(0), vcpu=vcpu, memory_mib=vcpu * gib * 1024)


def _reserved(total: float, tiers: tuple[tuple[float, float], ...]) -> float:
    reserved, left = 0.0, total
    for size, share in tiers:
        part = min(left, size)
        reserved += part * share
        left -= part
        if left <= 0:
            break
    return reserved


def pod_room(machine: MachineType) -> tuple[float, float]:
    """(vCPU, MiB) a model pod can request on one node: allocatable minus the DaemonSets and
    Knative's queue-proxy sidecar."""
    cpu = machine.vcpu - _reserved(machine.vcpu, GKE_CPU_RESERVED_TIERS)
    memory = (
        machine.memory_mib
        - _reserved(machine.memory_mib, GKE_MEMORY_RESERVED_TIERS)
        - GKE_EVICTION_THRESHOLD_MIB
    )
    return (
        math.floor((cpu - GKE_DAEMONSET_VCPU - KNATIVE_QUEUE_PROXY_VCPU) * 1000) / 1000,
        math.floor(memory - GKE_DAEMONSET_MIB),
    )


def pods_per_node(machine: MachineType, vcpu: float, memory_mib: float) -> int:
    room_cpu, room_mib = pod_room(machine)
    if vcpu <= 0 or memory_mib <= 0:
        return 0
    # Every pod after the first also brings its own queue-proxy.
    per_pod_cpu = vcpu + KNATIVE_QUEUE_PROXY_VCPU
    fit = min(
        math.floor((room_cpu + KNATIVE_QUEUE_PROXY_VCPU) / per_pod_cpu),
        math.floor(room_mib / memory_mib),
    )
    return max(0, fit)


def check_fits_node(
    cpu: Cpu | None, memory_mib: float | None, machine: MachineType, key: str
) -> tuple[str | None, str | None]:
    """(cpu problem, memory problem) of a model pod on `machine`, named by its setting `key`."""
    room_cpu, room_mib = pod_room(machine)
    why = f"on knative with {key} {machine.name} (what a node has left after GKE and system pods)"
    cpu_problem = mem_problem = None
    if cpu is not None and cpu.vcpu > room_cpu:
        cpu_problem = f"at most {room_cpu:g} {why}; use a larger {key}"
    if memory_mib is not None and memory_mib > room_mib:
        mem_problem = f"at most {format_mib(room_mib)} {why}; use a larger {key}"
    return cpu_problem, mem_problem


# The CPU becomes the service's NUM_THREADS, so it stays within what the service accepts.
CPU_QUANTITY_MAX = service_bounds.NUM_THREADS[1]
CPU_QUANTITY_VALID = f"a CPU quantity like 2, 1.5 or 500m (whole millicores), at most {CPU_QUANTITY_MAX}"


def check_cpu_quantity(cpu: Cpu | None) -> str | None:
    """Any Kubernetes CPU request above zero, to the millicore (Knative; the node fit is separate)."""
    if cpu is None or cpu.vcpu <= 0 or round(cpu.vcpu, 3) != cpu.vcpu or cpu.whole > CPU_QUANTITY_MAX:
        return CPU_QUANTITY_VALID
    return None
