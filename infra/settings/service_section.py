"""The service section of the settings: what the stack set, then what `derive` fills in for the
keys it left unset, then the checks the values must pass together (the derived ones included)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TypeVar

from infra import limits
from infra.limits import Cpu
from infra.settings import checks, derive, parse
from infra.settings.parse import RawConfig
from infra.settings.schema import EXECUTION_ENVIRONMENTS, LOG_LEVELS, ModelSettings, ServiceSettings
from service.bake.manifest import AUTO_PRECISION, DEFAULT_PRECISION

T = TypeVar("T")


def service_settings(r: RawConfig, platform: str, unset: frozenset[str]) -> ServiceSettings:
    """What the stack set; the keys it left unset hold placeholders until `_with_derived`."""

    def stack_set(key: str, read: Callable[[str], T], placeholder: T) -> T:
        return placeholder if key in unset else read(key)

    name = r.text("serviceName")
    if not parse.SERVICE_NAME.match(name):
        r.fail("serviceName", name, "lowercase letters, digits and '-', a letter first, ≤ 49 chars")
    cpu_text = stack_set("cpu", r.text, "")
    cpu = limits.parse_cpu(cpu_text)
    # Cloud Run's CPU sizes are Cloud Run's; on Knative any Kubernetes CPU quantity that fits the
    # node does (checked against the machine type in checks.check_knative).
    check_cpu = limits.check_cpu if platform != "knative" else limits.check_cpu_quantity
    if "cpu" not in unset and (problem := check_cpu(cpu)):
        r.fail("cpu", cpu_text, problem)
    memory = stack_set("memory", r.text, "")
    memory_mib = limits.parse_memory_mib(memory) if "memory" not in unset else 0.0
    if memory_mib is None:
        r.fail("memory", memory, "a size like 512Mi, 3Gi or 4G")
    elif memory.isdigit() and memory_mib:  # a Kubernetes quantity without a unit counts bytes
        r.fail(
            "memory",
            memory,
            f"a size with a unit: {memory} is read as bytes; "
            f"write {limits.format_mib(int(memory))} for {memory} MiB",
        )
        memory_mib = None
    return ServiceSettings(
        name=name,
        cpu=cpu if cpu and "cpu" not in r.failed else Cpu(cpu_text, 0.0),  # vcpu 0: skip its checks
        memory=memory,
        memory_mib=memory_mib or 0.0,
        concurrency=stack_set(
            "concurrency", lambda k: r.integer(k, 1, limits.CONCURRENCY_MAX, limits.CONCURRENCY_WHY), 0
        ),
        min_instances=r.integer("minInstances", 0, limits.MAX_INSTANCES_CEILING),
        max_instances=r.integer("maxInstances", 1, limits.MAX_INSTANCES_CEILING),
        timeout_seconds=r.integer("timeoutSeconds", 1, limits.TIMEOUT_MAX_SECONDS),
        startup_cpu_boost=r.flag("startupCpuBoost"),
        cpu_always_allocated=stack_set("cpuAlwaysAllocated", r.flag, False),
        gpu=r.text("gpu"),
        execution_environment=r.choice("executionEnvironment", EXECUTION_ENVIRONMENTS),
        model_load_seconds=r.integer(
            "modelLoadSeconds",
            1,
            limits.STARTUP_PROBE_BUDGET_MAX_SECONDS // 2,
            ": the startup probe allows twice this and Cloud Run caps it at "
            f"{limits.STARTUP_PROBE_BUDGET_MAX_SECONDS} s",
        ),
        max_context_chars=r.integer("maxContextChars", *limits.MAX_CONTEXT_CHARS),
        log_level=r.choice("logLevel", LOG_LEVELS),
        batching=stack_set("batching", r.flag, False),
        batch_max_wait_ms=r.integer("batchMaxWaitMs", *limits.BATCH_MAX_WAIT_MS),
        max_batch_windows=stack_set(
            "maxBatchWindows",
            lambda k: r.integer(k, 0, limits.MAX_BATCH_WINDOWS[1], ": 0 keeps the service's default"),
            0,
        ),
        gpu_zonal_redundancy=r.flag("gpuZonalRedundancy"),
    )


# Derived config keys → ServiceSettings fields (runtime is the model's).
_DERIVED_FIELDS = {
    "cpuAlwaysAllocated": "cpu_always_allocated",
    "batching": "batching",
    "concurrency": "concurrency",
    "maxBatchWindows": "max_batch_windows",
}


def with_derived(service: ServiceSettings, values: Mapping[str, object]) -> ServiceSettings:
    changes: dict[str, object] = {_DERIVED_FIELDS[k]: v for k, v in values.items() if k in _DERIVED_FIELDS}
    if "cpu" in values:
        changes["cpu"] = limits.parse_cpu(str(values["cpu"]))
    if "memory" in values:
        changes |= {"memory": values["memory"], "memory_mib": limits.parse_memory_mib(str(values["memory"]))}
    return replace(service, **changes)


def check_service(r: RawConfig, service: ServiceSettings, platform: str) -> None:
    """What the service's values must satisfy together, the derived ones included."""
    cpu = service.cpu if service.cpu.vcpu else None
    if service.min_instances > service.max_instances:
        r.fail("minInstances", service.min_instances, f"at most maxInstances ({service.max_instances})")
    if platform == "knative":
        if service.gpu and service.gpu not in limits.GPU_TYPES:
            r.fail("gpu", service.gpu, f"empty for none, or one of {', '.join(limits.GPU_TYPES)}")
        return
    if cpu and service.memory_mib and (problem := limits.check_memory(cpu, service.memory_mib)):
        r.fail("memory", service.memory, problem)
    if cpu and cpu.vcpu < 1:
        checks.check_fractional_cpu(r, service)
    if service.gpu:
        checks.check_gpu(r, service, cpu_known=cpu is not None)


def settings(
    r: RawConfig, platform: str, unset: frozenset[str], model: ModelSettings
) -> tuple[ServiceSettings, ModelSettings]:
    """The service (and the model's runtime and precision) as the stack set them, then derived."""
    service = service_settings(r, platform, unset)
    values = derive.derived(bool(service.gpu), service.batching, unset)
    r.derived |= frozenset(values) if service.gpu else frozenset()  # their problems are consequences
    service = with_derived(service, values)
    runtime = str(values.get("runtime", model.runtime))
    # auto: the runtime's own default (service/bake/manifest.py DEFAULT_PRECISION)
    precision = model.precision
    if precision == AUTO_PRECISION:
        precision = DEFAULT_PRECISION.get(runtime, precision)
    check_service(r, service, platform)
    return service, replace(model, runtime=runtime, precision=precision)
