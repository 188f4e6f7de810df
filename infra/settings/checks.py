"""Cross-checks: what one value cannot say alone (sizes that must fit together, what the image
or Knative cannot do). Each adds one line per problem to the `RawConfig` it is given."""

from __future__ import annotations

import re

from infra import limits, regions
from infra.settings.parse import RawConfig
from infra.settings.schema import (
    MEMBER_FORMS,
    MEMBER_PREFIXES,
    PRECISIONS,
    PUBLIC_ACCESS,
    PUBLIC_MEMBERS,
    RUNTIMES,
    SUPPORTED,
    AccessSettings,
    ModelSettings,
    ServiceSettings,
    Settings,
)


def check_invokers(r: RawConfig, access: AccessSettings) -> None:
    """Invokers are IAM members in full (`user:` alone is not one), each once: a repeat would
    declare two grants with one name. Opening the service to everyone is `public`'s job."""
    seen: set[str] = set()
    for member in access.invokers:
        prefix = next((p for p in MEMBER_PREFIXES if member.startswith(p)), None)
        if member in PUBLIC_MEMBERS:
            r.fail("invokers", member, f"set `public: true` to open the service instead of listing {member}")
        elif prefix is None:
            r.fail("invokers", member, f"an IAM member starting with one of {', '.join(MEMBER_PREFIXES)}")
        elif not re.fullmatch(MEMBER_FORMS[prefix][0], member[len(prefix) :]):
            r.fail("invokers", member, f"a whole IAM member, e.g. {MEMBER_FORMS[prefix][1]}")
        elif member.lower() in seen:
            r.fail("invokers", member, "listed once (IAM compares members without case)")
        seen.add(member.lower())


def check_public_access(r: RawConfig, access: AccessSettings, platform: str) -> None:
    """`publicAccess` says how a public Cloud Run service is opened; anything else is a setting
    that would silently do nothing."""
    if access.public_access == "allUsers" or access.public_access not in PUBLIC_ACCESS:
        return
    if platform != "cloudrun":
        r.fail("publicAccess", access.public_access, "allUsers on knative: it has no IAM invoker check")
    elif not access.public:
        r.fail("publicAccess", access.public_access, "allUsers unless `public: true`")
    elif access.invokers:
        r.fail(
            "invokers",
            list(access.invokers),
            "empty with publicAccess invokerIamDisabled: with the invoker check off anyone may call",
        )


def check_cloud_run_placement(r: RawConfig, service: ServiceSettings, region: str) -> None:
    """What the region and the execution environment allow on Cloud Run."""
    if service.gpu in limits.GPU_TYPES and (problem := regions.check_gpu_region(service.gpu, region)):
        r.fail("gpu", service.gpu, problem)
    if service.execution_environment == "gen2" and 0 < service.memory_mib < limits.GEN2_MIN_MEMORY_MIB:
        r.fail(
            "memory",
            service.memory,
            f"at least {limits.format_mib(limits.GEN2_MIN_MEMORY_MIB)} with executionEnvironment gen2 "
            "(gen1 allows less)",
        )


def check_model_labels(r: RawConfig, model: ModelSettings) -> None:
    """The model pin reaches the service as MODEL_ID / MODEL_REVISION: within what it accepts."""
    for key, value in (("modelId", model.id), ("modelRevision", model.revision)):
        if len(value) > limits.MODEL_LABEL_MAX_CHARS or not value.isprintable():
            r.fail(key, value, f"printable text of at most {limits.MODEL_LABEL_MAX_CHARS} characters")


def check_runtime(r: RawConfig, model: ModelSettings, service: ServiceSettings) -> None:
    """What the image can do: the (runtime, precision) pairs the service's manifest supports, and
    GPUs only with a runtime that uses them."""
    supported = SUPPORTED.get(model.runtime, ())
    if model.runtime in RUNTIMES and model.precision in PRECISIONS and model.precision not in supported:
        needs = " or ".join(runtime for runtime in RUNTIMES if model.precision in SUPPORTED[runtime])
        r.fail(
            "precision",
            model.precision,
            f"{', '.join(supported)} with runtime {model.runtime} ({model.precision} needs runtime {needs})",
        )
    if service.gpu and model.runtime not in limits.GPU_RUNTIMES:
        r.fail(
            "runtime",
            model.runtime,
            f"{' or '.join(limits.GPU_RUNTIMES)} with gpu {service.gpu}: "
            f"the {model.runtime} image runs on CPU only",
        )


def check_fractional_cpu(r: RawConfig, service: ServiceSettings) -> None:
    fractional = f"with cpu {service.cpu.text} (below 1 vCPU)"
    if service.concurrency != 1:
        r.fail("concurrency", service.concurrency, f"1 {fractional}")
    if service.cpu_always_allocated:
        r.fail("cpuAlwaysAllocated", True, f"false {fractional}: request-based billing only")
    if service.execution_environment != "gen1":
        r.fail("executionEnvironment", service.execution_environment, f"gen1 {fractional}")


def check_gpu(r: RawConfig, service: ServiceSettings, cpu_known: bool) -> None:
    gpu = service.gpu
    if gpu not in limits.GPU_TYPES:
        r.fail("gpu", gpu, f"empty for none, or one of {', '.join(limits.GPU_TYPES)}")
        return
    if cpu_known and service.cpu.vcpu < limits.GPU_MIN_CPU:
        r.fail("cpu", service.cpu.text, f"at least {limits.GPU_MIN_CPU} with gpu {gpu}")
    if service.memory_mib and service.memory_mib < limits.GPU_MIN_MEMORY_MIB:
        minimum = limits.format_mib(limits.GPU_MIN_MEMORY_MIB)
        r.fail("memory", service.memory, f"at least {minimum} with gpu {gpu}")
    if not service.cpu_always_allocated:
        r.fail("cpuAlwaysAllocated", False, f"true with gpu {gpu}: GPUs need instance-based billing")


def check_knative(r: RawConfig, settings: Settings) -> None:
    """What a `platform: knative` stack cannot express, or what would not fit its cluster."""
    service, access, knative = settings.service, settings.access, settings.knative
    on = "on knative"

    def parsed(*keys: str) -> bool:
        """Cross-check only values that parsed: a bad one already has its line (and a fallback)."""
        return not r.failed.intersection(keys)

    # Settings with no Knative equivalent that would change behaviour: refused, not dropped.
    if access.invokers:
        r.fail(
            "invokers",
            list(access.invokers),
            f"empty {on}: Knative has no per-caller IAM; a private service (public: false) is "
            "cluster-local, reachable only from inside the cluster",
        )
    if parsed("ingress") and access.ingress != "all":
        r.fail(
            "ingress",
            access.ingress,
            f"all {on}: use public: false for a cluster-local service instead",
        )
    if parsed("executionEnvironment") and service.execution_environment != "gen2":
        r.fail(
            "executionEnvironment",
            service.execution_environment,
            f"gen2 {on}: GKE nodes run containers without gen1's gVisor sandbox",
        )
    if parsed("timeoutSeconds") and service.timeout_seconds > limits.KNATIVE_MAX_REVISION_TIMEOUT_SECONDS:
        r.fail(
            "timeoutSeconds",
            service.timeout_seconds,
            f"at most {limits.KNATIVE_MAX_REVISION_TIMEOUT_SECONDS} {on}: Knative's "
            "max-revision-timeout-seconds, bounded by how long its activator drains on shutdown",
        )
    if parsed("knativeInitialScale", "maxInstances") and knative.initial_scale > service.max_instances:
        r.fail(
            "knativeInitialScale",
            knative.initial_scale,
            f"at most maxInstances ({service.max_instances})",
        )
    if parsed("knativeTarget", "concurrency") and knative.target > service.concurrency:
        r.fail(
            "knativeTarget",
            knative.target,
            f"0 (uses concurrency) or 1…{service.concurrency}: at most concurrency, the hard limit",
        )
    node_keys = ("cpu", "memory", "gpu", "maxInstances", "gkeMachineType", "gkeMaxNodes")
    if parsed(*node_keys, "gkeGpuMachineType", "gkeGpuMaxNodes"):
        check_knative_nodes(r, settings)


def check_knative_nodes(r: RawConfig, settings: Settings) -> None:
    """The model pod must fit a node of its pool, and maxInstances pods must fit the pool."""
    service, gke = settings.service, settings.gke
    if service.gpu:
        if gke.gpu_max_nodes < 1:
            r.fail(
                "gkeGpuMaxNodes",
                gke.gpu_max_nodes,
                f"at least 1 with gpu {service.gpu} on knative: the GPU node pool it runs on",
            )
            return
        key, machine, max_nodes = "gkeGpuMachineType", gke.gpu_machine_type, gke.gpu_max_nodes
    else:
        key, machine, max_nodes = "gkeMachineType", gke.machine_type, gke.max_nodes
    node = limits.parse_machine_type(machine)
    assert node is not None  # a bad machine type is already a problem: not checked then
    cpu_problem, memory_problem = limits.check_fits_node(service.cpu, service.memory_mib, node, key)
    if cpu_problem:
        r.fail("cpu", service.cpu.text, cpu_problem)
    if memory_problem:
        r.fail("memory", service.memory, memory_problem)
    if cpu_problem or memory_problem:
        return
    per_node = limits.pods_per_node(node, service.cpu.vcpu, service.memory_mib)
    if service.gpu:
        per_node = min(per_node, node.l4_gpus)  # one GPU per pod
    nodes_key = "gkeGpuMaxNodes" if service.gpu else "gkeMaxNodes"
    if service.max_instances > per_node * max_nodes:
        r.fail(
            "maxInstances",
            service.max_instances,
            f"at most {per_node * max_nodes} on knative: {per_node} pod(s) per {machine} node × "
            f"{nodes_key} {max_nodes}; raise {nodes_key} or use a larger {key}",
        )
