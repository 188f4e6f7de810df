"""Typed, validated stack settings — the only module that reads `pulumi.Config`.

Defaults live in one place, the `config:` schema of Pulumi.yaml (the CLI applies them; the
offline render applies them the same way). This module parses the raw strings, checks them
against the platform limits in `limits.py` and fails before any resource is declared, with one
line per problem naming the key, the value and what would be valid.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import pulumi

from infra import limits
from infra.limits import Cpu

# The service's manifest declares what an image can serve (stdlib only, no service deps).
from service.manifest import AUTO_PRECISION, DEFAULT_PRECISION, PRECISIONS, RUNTIMES, SUPPORTED

PLATFORMS = ("cloudrun", "knative")
BUILDERS = ("docker", "cloudbuild")
INGRESS = {
    "all": "INGRESS_TRAFFIC_ALL",
    "internal": "INGRESS_TRAFFIC_INTERNAL_ONLY",
    "internal-and-cloud-load-balancing": "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER",
}
EXECUTION_ENVIRONMENTS = ("gen1", "gen2")
RELEASE_CHANNELS = ("RAPID", "REGULAR", "STABLE")
KNATIVE_INGRESSES = {"kourier": "kourier.ingress.networking.knative.dev"}  # setting → ingress class
# Domains that resolve any IP embedded in the name: the stack puts the ingress IP in front.
MAGIC_DNS_DOMAINS = ("sslip.io", "nip.io")
KNATIVE_MIN_MINOR = 20  # oldest release line the rendered Service is checked against
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
MEMBER_PREFIXES = (
    "user:",
    "serviceAccount:",
    "group:",
    "domain:",
    "principal://",
    "principalSet://",
)
PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")

# Cloud Run service names: lowercase letters, digits and hyphens, a letter first, ≤ 49 chars.
_SERVICE_NAME = re.compile(r"^[a-z](?:[a-z0-9-]{0,47}[a-z0-9])?$")
_IMAGE_REF = re.compile(r"^[a-z0-9.-]+(?::\d+)?/[a-z0-9._/-]+(?::[\w.-]+)?(?:@sha256:[0-9a-f]{64})?$")
_MODEL_ID = re.compile(r"^[\w.-]+(?:/[\w.-]+)?$")
_KNATIVE_VERSION = re.compile(r"^knative-v1\.(\d+)\.(\d+)$")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DNS_LABEL = re.compile(rf"^{_LABEL}$")
_DOMAIN = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})+$")
_REGION = re.compile(r"^[a-z]+-[a-z]+\d+$")
_ZONE = re.compile(r"^([a-z]+-[a-z]+\d+)-[a-z]$")
_CIDR = re.compile(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})/(\d{1,2})$")
# Namespaces Kubernetes, GKE and the Knative install own; the model service gets its own.
RESERVED_NAMESPACES = ("default", "knative-serving", "kourier-system", "gke-managed-system")


class SettingsError(pulumi.RunError):
    """Invalid stack settings. `pulumi.RunError` makes the CLI print the message, not a trace."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class ModelSettings:
    id: str
    revision: str
    runtime: str
    precision: str


@dataclass(frozen=True)
class ImageSettings:
    prebuilt: str  # an existing image reference to deploy; "" builds from service/
    builder: str
    keep_versions: int


@dataclass(frozen=True)
class ServiceSettings:
    name: str
    cpu: Cpu
    memory: str
    memory_mib: float
    concurrency: int
    min_instances: int
    max_instances: int
    timeout_seconds: int
    startup_cpu_boost: bool
    cpu_always_allocated: bool
    gpu: str  # "" for none
    execution_environment: str
    model_load_seconds: int
    max_context_chars: int
    log_level: str


@dataclass(frozen=True)
class AccessSettings:
    public: bool
    invokers: tuple[str, ...]
    ingress: str  # the setting's value; INGRESS maps it to the Cloud Run enum


@dataclass(frozen=True)
class GkeSettings:
    """The cluster a `platform: knative` stack creates (read on cloudrun stacks, but unused)."""

    location: str  # a zone (zonal cluster) or the region (regional cluster)
    release_channel: str
    machine_type: str
    min_nodes: int  # across the whole node pool, not per zone
    max_nodes: int
    private_nodes: bool
    master_authorized_networks: tuple[str, ...]  # CIDRs; empty leaves the endpoint unrestricted
    gpu_machine_type: str
    gpu_max_nodes: int  # 0: no GPU node pool

    @property
    def regional(self) -> bool:
        return not _ZONE.match(self.location)


@dataclass(frozen=True)
class KnativeSettings:
    version: str  # a knative/serving release tag; net-kourier is pinned to the same tag
    ingress: str  # a key of KNATIVE_INGRESSES
    domain: str  # magic DNS (the ingress IP is put in front) or a domain you own
    namespace: str
    initial_scale: int
    target: int  # in-flight requests per pod the autoscaler aims for; ≤ concurrency
    scale_to_zero_grace_seconds: int
    scale_to_zero_pod_retention_seconds: int

    @property
    def magic_dns(self) -> bool:
        return self.domain in MAGIC_DNS_DOMAINS

    @property
    def ingress_class(self) -> str:
        return KNATIVE_INGRESSES[self.ingress]


@dataclass(frozen=True)
class Settings:
    project: str
    region: str
    stack: str
    platform: str
    deletion_protection: bool
    model: ModelSettings
    image: ImageSettings
    service: ServiceSettings
    access: AccessSettings
    gke: GkeSettings
    knative: KnativeSettings

    @property
    def labels(self) -> dict[str, str]:
        """Resource labels (GCP label values: lowercase, digits, '-', '_', ≤ 63 chars)."""
        return {
            "app": label_value(self.service.name),
            "stack": label_value(self.stack),
            "managed-by": "pulumi",
        }


def label_value(text: str) -> str:
    return re.sub(r"[^a-z0-9_-]", "-", text.lower())[:63]


# Every project key in Pulumi.yaml's `config:` schema; a test keeps the two in step.
CONFIG_KEYS = (
    "platform",
    "serviceName",
    "modelId",
    "modelRevision",
    "runtime",
    "precision",
    "image",
    "builder",
    "repositoryKeepVersions",
    "cpu",
    "memory",
    "concurrency",
    "minInstances",
    "maxInstances",
    "timeoutSeconds",
    "startupCpuBoost",
    "cpuAlwaysAllocated",
    "gpu",
    "executionEnvironment",
    "modelLoadSeconds",
    "maxContextChars",
    "logLevel",
    "public",
    "invokers",
    "ingress",
    "deletionProtection",
    "gkeLocation",
    "gkeReleaseChannel",
    "gkeMachineType",
    "gkeMinNodes",
    "gkeMaxNodes",
    "gkePrivateNodes",
    "gkeMasterAuthorizedNetworks",
    "gkeGpuMachineType",
    "gkeGpuMaxNodes",
    "knativeVersion",
    "knativeIngress",
    "knativeDomain",
    "knativeNamespace",
    "knativeInitialScale",
    "knativeTarget",
    "knativeScaleToZeroGraceSeconds",
    "knativeScaleToZeroPodRetentionSeconds",
)

T = TypeVar("T")


class _Reader:
    """Parses raw config strings, collecting every problem instead of stopping at the first."""

    def __init__(self, raw: Mapping[str, str]):
        self.raw = raw
        self.problems: list[str] = []

    def fail(self, key: str, value: object, valid: str) -> None:
        shown = json.dumps(value) if isinstance(value, str) else json.dumps(value, default=str)
        self.problems.append(f"{key}: {shown} is not valid — {valid}")

    def _get(self, key: str, parse: Callable[[str], T], valid: str, fallback: T) -> T:
        if key not in self.raw:
            self.problems.append(
                f"{key}: not set — declare it in Pulumi.yaml or run `pulumi config set {key} VALUE`"
            )
            return fallback
        text = self.raw[key]
        try:
            return parse(text)
        except (ValueError, TypeError):
            self.fail(key, text, valid)
            return fallback

    def text(self, key: str) -> str:
        return self._get(key, str, "a string", "")

    def choice(self, key: str, choices: tuple[str, ...] | Mapping[str, str]) -> str:
        value = self.text(key)
        if value not in choices:
            self.fail(key, value, f"one of {', '.join(choices)}")
        return value

    def integer(self, key: str, low: int, high: int, why: str = "") -> int:
        valid = f"a whole number {low}…{high}{why}"
        value = self._get(key, _parse_int, valid, low)
        if not low <= value <= high:
            self.fail(key, value, valid)
            return low
        return value

    def flag(self, key: str) -> bool:
        return self._get(key, _parse_bool, "true or false", False)

    def strings(self, key: str) -> tuple[str, ...]:
        return self._get(key, _parse_str_list, 'a list of strings, e.g. ["user:a@b.com"]', ())


def _parse_int(text: str) -> int:
    if isinstance(text, bool) or not re.fullmatch(r"-?\d+", str(text).strip()):
        raise ValueError(text)
    return int(str(text).strip())


def _parse_bool(text: str) -> bool:
    lowered = str(text).strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise ValueError(text)


def _parse_str_list(text: str) -> tuple[str, ...]:
    value = json.loads(text) if isinstance(text, str) else text
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError(text)
    return tuple(value)


def build_settings(raw: Mapping[str, str], *, project: str, region: str, stack: str) -> Settings:
    """Parse and validate raw config strings (as `pulumi.Config` returns them)."""
    r = _Reader(raw)
    if not project:
        r.problems.append("gcp:project: not set — run `pulumi config set gcp:project YOUR_PROJECT`")
    if not region:
        r.problems.append("gcp:region: not set — run `pulumi config set gcp:region us-central1`")

    runtime = r.choice("runtime", RUNTIMES)
    precision = r.choice("precision", (AUTO_PRECISION, *PRECISIONS))
    model = ModelSettings(
        id=r.text("modelId"),
        revision=r.text("modelRevision"),
        runtime=runtime,
        precision=DEFAULT_PRECISION.get(runtime, precision) if precision == AUTO_PRECISION else precision,
    )
    if model.id and not _MODEL_ID.match(model.id):
        r.fail(
            "modelId",
            model.id,
            "a Hugging Face Hub id like distilbert/distilbert-base-cased-distilled-squad",
        )
    if "modelRevision" in raw and not model.revision.strip():
        r.fail("modelRevision", model.revision, "a Hub commit hash or tag (pin it: branches move)")

    image = ImageSettings(
        prebuilt=r.text("image").strip(),
        builder=r.choice("builder", BUILDERS),
        keep_versions=r.integer("repositoryKeepVersions", 1, 100),
    )
    if image.prebuilt and not _IMAGE_REF.match(image.prebuilt):
        r.fail(
            "image",
            image.prebuilt,
            "an image reference like REGION-docker.pkg.dev/PROJECT/REPO/NAME@sha256:…, "
            "or empty to build from service/",
        )

    # Read first: which platform's limits the service settings are checked against.
    platform = r.choice("platform", PLATFORMS)
    service = _service_settings(r, platform)
    access = AccessSettings(
        public=r.flag("public"),
        invokers=r.strings("invokers"),
        ingress=r.choice("ingress", INGRESS),
    )
    for member in access.invokers:
        if member in PUBLIC_MEMBERS:
            r.fail(
                "invokers",
                member,
                f"set `public: true` to open the service instead of listing {member}",
            )
        elif not member.startswith(MEMBER_PREFIXES):
            r.fail(
                "invokers",
                member,
                f"an IAM member starting with one of {', '.join(MEMBER_PREFIXES)}",
            )

    _check_runtime(r, model, service)

    deletion_protection = r.flag("deletionProtection")
    gke = _gke_settings(r, region)
    knative = _knative_settings(r)
    settings = Settings(
        project=project,
        region=region,
        stack=stack,
        platform=platform,
        deletion_protection=deletion_protection,
        model=model,
        image=image,
        service=service,
        access=access,
        gke=gke,
        knative=knative,
    )
    if platform == "knative":
        _check_knative(r, settings)
    if r.problems:
        raise SettingsError(r.problems)
    return settings


def _service_settings(r: _Reader, platform: str) -> ServiceSettings:
    name = r.text("serviceName")
    if not _SERVICE_NAME.match(name):
        r.fail("serviceName", name, "lowercase letters, digits and '-', a letter first, ≤ 49 chars")

    cpu_text = r.text("cpu")
    cpu = limits.parse_cpu(cpu_text)
    # Cloud Run's CPU sizes are Cloud Run's; on Knative any Kubernetes CPU quantity that fits the
    # node does (checked against the machine type in _check_knative).
    check_cpu = limits.check_cpu if platform != "knative" else limits.check_cpu_quantity
    if problem := check_cpu(cpu):
        r.fail("cpu", cpu_text, problem)
        cpu = None  # the checks that depend on the CPU are skipped
    memory = r.text("memory")
    memory_mib = limits.parse_memory_mib(memory)
    if memory_mib is None:
        r.fail("memory", memory, "a size like 512Mi, 3Gi or 4G")

    service = ServiceSettings(
        name=name,
        cpu=cpu or Cpu(cpu_text, 0.0),  # a bad cpu is already a problem: never returned
        memory=memory,
        memory_mib=memory_mib or 0.0,
        concurrency=r.integer("concurrency", 1, limits.CONCURRENCY_MAX),
        min_instances=r.integer("minInstances", 0, limits.MAX_INSTANCES_CEILING),
        max_instances=r.integer("maxInstances", 1, limits.MAX_INSTANCES_CEILING),
        timeout_seconds=r.integer("timeoutSeconds", 1, limits.TIMEOUT_MAX_SECONDS),
        startup_cpu_boost=r.flag("startupCpuBoost"),
        cpu_always_allocated=r.flag("cpuAlwaysAllocated"),
        gpu=r.text("gpu").strip(),
        execution_environment=r.choice("executionEnvironment", EXECUTION_ENVIRONMENTS),
        model_load_seconds=r.integer(
            "modelLoadSeconds",
            1,
            limits.STARTUP_PROBE_BUDGET_MAX_SECONDS // 2,
            ": the startup probe allows twice this and Cloud Run caps it at "
            f"{limits.STARTUP_PROBE_BUDGET_MAX_SECONDS} s",
        ),
        max_context_chars=r.integer("maxContextChars", 100, 1_000_000),
        log_level=r.choice("logLevel", LOG_LEVELS),
    )
    if service.min_instances > service.max_instances:
        r.fail("minInstances", service.min_instances, f"at most maxInstances ({service.max_instances})")
    if platform == "knative":
        if service.gpu and service.gpu not in limits.GPU_TYPES:
            r.fail("gpu", service.gpu, f"empty for none, or one of {', '.join(limits.GPU_TYPES)}")
        return service
    if cpu and memory_mib and (problem := limits.check_memory(cpu, memory_mib)):
        r.fail("memory", memory, problem)
    if cpu and cpu.vcpu < 1:
        _check_fractional_cpu(r, service)
    if service.gpu:
        _check_gpu(r, service, cpu_known=cpu is not None)
    return service


def _check_runtime(r: _Reader, model: ModelSettings, service: ServiceSettings) -> None:
    """What the image can do (service/manifest.py SUPPORTED); GPUs are served by torch (CUDA)."""
    supported = SUPPORTED.get(model.runtime, PRECISIONS)  # an unknown runtime is already reported
    if model.precision in PRECISIONS and model.precision not in supported:
        r.fail("precision", model.precision, f"{' or '.join(supported)} with runtime {model.runtime}")
    if service.gpu and model.runtime != "torch":
        r.fail(
            "runtime",
            model.runtime,
            f"torch with gpu {service.gpu}: the {model.runtime} image runs on CPU only",
        )


def _check_fractional_cpu(r: _Reader, service: ServiceSettings) -> None:
    fractional = f"with cpu {service.cpu.text} (below 1 vCPU)"
    if service.concurrency != 1:
        r.fail("concurrency", service.concurrency, f"1 {fractional}")
    if service.cpu_always_allocated:
        r.fail("cpuAlwaysAllocated", True, f"false {fractional}: request-based billing only")
    if service.execution_environment != "gen1":
        r.fail("executionEnvironment", service.execution_environment, f"gen1 {fractional}")


def _check_gpu(r: _Reader, service: ServiceSettings, cpu_known: bool) -> None:
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


def _gke_settings(r: _Reader, region: str) -> GkeSettings:
    location = r.text("gkeLocation").strip() or region
    gke = GkeSettings(
        location=location,
        release_channel=r.choice("gkeReleaseChannel", RELEASE_CHANNELS),
        machine_type=r.text("gkeMachineType").strip(),
        min_nodes=r.integer("gkeMinNodes", 0, 100),
        max_nodes=r.integer("gkeMaxNodes", 1, 100),
        private_nodes=r.flag("gkePrivateNodes"),
        master_authorized_networks=r.strings("gkeMasterAuthorizedNetworks"),
        gpu_machine_type=r.text("gkeGpuMachineType").strip(),
        gpu_max_nodes=r.integer("gkeGpuMaxNodes", 0, 100),
    )
    zone = _ZONE.match(location)
    if region and location != region and not (zone and zone.group(1) == region):
        r.fail(
            "gkeLocation",
            location,
            f"empty or {region} for a regional cluster, or a zone of {region} such as {region}-a "
            "(the ingress IP and the image repository are in gcp:region)",
        )
    if gke.min_nodes > gke.max_nodes:
        r.fail("gkeMinNodes", gke.min_nodes, f"at most gkeMaxNodes ({gke.max_nodes})")
    if not limits.parse_machine_type(gke.machine_type):
        r.fail("gkeMachineType", gke.machine_type, limits.MACHINE_TYPE_VALID)
    gpu_machine = limits.parse_machine_type(gke.gpu_machine_type)
    if not (gpu_machine and gpu_machine.l4_gpus):
        r.fail("gkeGpuMachineType", gke.gpu_machine_type, limits.GPU_MACHINE_VALID)
    for cidr in gke.master_authorized_networks:
        if not _valid_cidr(cidr):
            r.fail("gkeMasterAuthorizedNetworks", cidr, "an IPv4 CIDR such as 203.0.113.7/32")
    return gke


def _valid_cidr(cidr: str) -> bool:
    match = _CIDR.match(cidr)
    if not match:
        return False
    *octets, prefix = (int(part) for part in match.groups())
    return all(o <= 255 for o in octets) and prefix <= 32


def _knative_settings(r: _Reader) -> KnativeSettings:
    knative = KnativeSettings(
        version=r.text("knativeVersion").strip(),
        ingress=r.choice("knativeIngress", tuple(KNATIVE_INGRESSES)),
        domain=r.text("knativeDomain").strip().lower(),
        namespace=r.text("knativeNamespace").strip(),
        initial_scale=r.integer("knativeInitialScale", 0, limits.MAX_INSTANCES_CEILING),
        target=r.integer("knativeTarget", 0, limits.CONCURRENCY_MAX, ": 0 uses concurrency"),
        scale_to_zero_grace_seconds=r.integer("knativeScaleToZeroGraceSeconds", 6, 3600),
        scale_to_zero_pod_retention_seconds=r.integer("knativeScaleToZeroPodRetentionSeconds", 0, 86400),
    )
    version = _KNATIVE_VERSION.match(knative.version)
    if not version or int(version.group(1)) < KNATIVE_MIN_MINOR:
        r.fail(
            "knativeVersion",
            knative.version,
            f"a Knative release tag like knative-v1.23.0 (knative-v1.{KNATIVE_MIN_MINOR}.0 or newer)",
        )
    if not _DOMAIN.match(knative.domain):
        r.fail(
            "knativeDomain",
            knative.domain,
            f"{' or '.join(MAGIC_DNS_DOMAINS)} (magic DNS on the ingress IP), or a DNS domain you own",
        )
    if (
        not _DNS_LABEL.match(knative.namespace)
        or knative.namespace.startswith("kube-")
        or knative.namespace in RESERVED_NAMESPACES
    ):
        r.fail(
            "knativeNamespace",
            knative.namespace,
            "a Kubernetes namespace name of its own (lowercase letters, digits, '-'; not "
            f"{', '.join(RESERVED_NAMESPACES)} or kube-*)",
        )
    return knative


def _check_knative(r: _Reader, settings: Settings) -> None:
    """What a `platform: knative` stack cannot express, or what would not fit its cluster."""
    service, access, knative = settings.service, settings.access, settings.knative
    on = "on knative"
    failed = {problem.split(":", 1)[0] for problem in r.problems}

    def parsed(*keys: str) -> bool:
        """Cross-check only values that parsed: a bad one already has its line (and a fallback)."""
        return not failed.intersection(keys)

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
        _check_knative_nodes(r, settings)


def _check_knative_nodes(r: _Reader, settings: Settings) -> None:
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


def load_settings() -> Settings:
    """Read this stack's settings from `pulumi.Config` (CLI run or the offline render)."""
    config = pulumi.Config()
    gcp = pulumi.Config("gcp")
    raw = {key: value for key in CONFIG_KEYS if (value := config.get(key)) is not None}
    return build_settings(
        raw,
        project=gcp.get("project") or "",
        region=gcp.get("region") or "",
        stack=pulumi.get_stack(),
    )
