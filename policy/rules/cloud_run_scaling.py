"""Cloud Run sizing and scaling: limits, CPU allocation, concurrency, instances, timeout."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from infra.limits import CPU_BOUND_CONCURRENCY_MAX, GPU_RESOURCE
from policy import tokens
from policy.rule import Level, Rule
from policy.rules.cloud_run_template import containers, label
from policy.values import UNKNOWN, as_number, duration_seconds, get, is_unknown

SERVICE = frozenset({tokens.CLOUD_RUN_SERVICE})

# Cloud Run's own default. A question-answering request that runs longer is stuck, and Cloud Run
# keeps executing it (billed) after the client has already received a 504.
MAX_TIMEOUT_SECONDS = 300


def _limits(_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    for index, container in enumerate(containers(inputs)):
        limits = get(container, "resources.limits")
        if is_unknown(limits):
            continue
        for key in ("cpu", "memory"):
            value = get(limits, key)
            if value is None or value == "":
                yield f"{label(container, index)} has no resources.limits.{key}"


def _cpu_idle(_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    for index, container in enumerate(containers(inputs)):
        resources = container.get("resources")
        if isinstance(resources, Mapping) and "cpuIdle" not in resources:
            yield f"{label(container, index)} sets resources without cpuIdle"


def _has_gpu(inputs: Mapping[str, Any]) -> Any:
    """True, False or UNKNOWN: a GPU service batches on the accelerator and is not CPU-bound."""
    accelerator = get(inputs, "template.nodeSelector.accelerator")
    if is_unknown(accelerator):
        return UNKNOWN
    if isinstance(accelerator, str) and accelerator:
        return True
    for container in containers(inputs):
        limits = get(container, "resources.limits")
        if is_unknown(limits):
            return UNKNOWN
        if isinstance(limits, Mapping) and limits.get(GPU_RESOURCE) not in (None, "", "0", 0):
            return True
    return False


def _concurrency(_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    value, gpu = get(inputs, "template.maxInstanceRequestConcurrency"), _has_gpu(inputs)
    if is_unknown(value) or is_unknown(gpu) or gpu is True:
        return
    if value is None:
        yield "maxInstanceRequestConcurrency is unset (Cloud Run's default is 80)"
        return
    number = as_number(value)
    if number is not None and number > CPU_BOUND_CONCURRENCY_MAX:
        yield (
            f"maxInstanceRequestConcurrency is {number:g}, above {CPU_BOUND_CONCURRENCY_MAX} "
            "for a CPU-bound model"
        )


def _max_instances(_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    value = get(inputs, "template.scaling.maxInstanceCount")
    if is_unknown(value):
        return
    number = as_number(value)
    if number is None or number <= 0:
        yield "template.scaling.maxInstanceCount is not set to a positive number"


def _timeout(_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    value = get(inputs, "template.timeout")
    if is_unknown(value):
        return
    if value is None:
        yield "template.timeout is unset"
    elif duration_seconds(value) is None:
        yield f"template.timeout {value!r} is not a duration like '60s'"


def _timeout_for_inference(_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    value = get(inputs, "template.timeout")
    seconds = None if is_unknown(value) or value is None else duration_seconds(value)
    if seconds is not None and seconds > MAX_TIMEOUT_SECONDS:
        yield f"template.timeout is {seconds:g}s, above {MAX_TIMEOUT_SECONDS}s"


RULES = [
    Rule(
        name="cloudrun-resource-limits",
        level=Level.MANDATORY,
        what="Every Cloud Run container sets resources.limits.cpu and resources.limits.memory.",
        why=(
            "Without them the model gets Cloud Run's defaults (1 vCPU, 512 MiB), which an ML "
            "model outgrows: it is OOM-killed or CPU-starved, and limits checked before deploy "
            "no longer describe what runs."
        ),
        fix="set the `cpu` and `memory` stack settings (they become resources.limits)",
        types=SERVICE,
        check=_limits,
    ),
    Rule(
        name="cloudrun-cpu-idle-explicit",
        level=Level.ADVISORY,
        what="A Cloud Run container that sets `resources` also sets `cpuIdle` explicitly.",
        why=(
            "pulumi-gcp defaults cpuIdle to true only while `resources` is unset; once limits are "
            "set, leaving it out silently switches the service to instance-based billing."
        ),
        fix="set resources.cpuIdle (true: billed per request; false: CPU always allocated)",
        types=SERVICE,
        check=_cpu_idle,
    ),
    Rule(
        name="cloudrun-concurrency-cpu-bound",
        level=Level.ADVISORY,
        what=(
            f"Cloud Run request concurrency is set, at most {CPU_BOUND_CONCURRENCY_MAX} per "
            "instance for a CPU-bound model (services with a GPU are exempt)."
        ),
        why=(
            "Requests beyond the cores share the CPU and all get slower instead of starting "
            "another instance; the default of 80 suits I/O-bound apps, not inference."
        ),
        fix=(
            f"set the `concurrency` stack setting to 1..{CPU_BOUND_CONCURRENCY_MAX} (1 suits one model "
            f"worker)"
        ),
        types=SERVICE,
        check=_concurrency,
    ),
    Rule(
        name="cloudrun-max-instances",
        level=Level.MANDATORY,
        what="Cloud Run services set template.scaling.maxInstanceCount.",
        why=(
            "Without a cap a traffic spike or a loop scales to the regional quota — a bill "
            "(and a denial-of-wallet) with no upper bound."
        ),
        fix="set the `maxInstances` stack setting to the most instances you will pay for",
        types=SERVICE,
        check=_max_instances,
    ),
    Rule(
        name="cloudrun-request-timeout",
        level=Level.MANDATORY,
        what="Cloud Run services set template.timeout explicitly, as a duration like '60s'.",
        why=(
            "Left out, the service gets whatever the platform default is at deploy time, and "
            "the stack's `timeoutSeconds` no longer describes what runs."
        ),
        fix="set the `timeoutSeconds` stack setting",
        types=SERVICE,
        check=_timeout,
    ),
    Rule(
        name="cloudrun-request-timeout-inference",
        # Advisory: Cloud Run allows up to an hour and the stack settings accept it; a longer
        # timeout is a deliberate choice (a huge context on a small CPU), worth a look, not a veto.
        level=Level.ADVISORY,
        what=f"Cloud Run request timeouts stay at or under {MAX_TIMEOUT_SECONDS}s for inference.",
        why=(
            "A request still running at the timeout keeps its instance busy and billed after the "
            "client got a 504; inference that needs longer is stuck, not slow."
        ),
        fix=f"set the `timeoutSeconds` stack setting to 1..{MAX_TIMEOUT_SECONDS}",
        types=SERVICE,
        check=_timeout_for_inference,
    ),
]
