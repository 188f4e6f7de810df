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

PLATFORMS = ("cloudrun", "knative")
BUILDERS = ("docker", "cloudbuild")
RUNTIMES = ("torch",)
PRECISIONS = ("fp32",)
INGRESS = {
    "all": "INGRESS_TRAFFIC_ALL",
    "internal": "INGRESS_TRAFFIC_INTERNAL_ONLY",
    "internal-and-cloud-load-balancing": "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER",
}
EXECUTION_ENVIRONMENTS = ("gen1", "gen2")
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
_IMAGE_REF = re.compile(
    r"^[a-z0-9.-]+(?::\d+)?/[a-z0-9._/-]+(?::[\w.-]+)?(?:@sha256:[0-9a-f]{64})?$"
)
_MODEL_ID = re.compile(r"^[\w.-]+(?:/[\w.-]+)?$")


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

    model = ModelSettings(
        id=r.text("modelId"),
        revision=r.text("modelRevision"),
        runtime=r.choice("runtime", RUNTIMES),
        precision=r.choice("precision", PRECISIONS),
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

    service = _service_settings(r)
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

    settings = Settings(
        project=project,
        region=region,
        stack=stack,
        platform=r.choice("platform", PLATFORMS),
        deletion_protection=r.flag("deletionProtection"),
        model=model,
        image=image,
        service=service,
        access=access,
    )
    if r.problems:
        raise SettingsError(r.problems)
    return settings


def _service_settings(r: _Reader) -> ServiceSettings:
    name = r.text("serviceName")
    if not _SERVICE_NAME.match(name):
        r.fail("serviceName", name, "lowercase letters, digits and '-', a letter first, ≤ 49 chars")

    cpu_text = r.text("cpu")
    cpu = limits.parse_cpu(cpu_text)
    if problem := limits.check_cpu(cpu):
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
        r.fail(
            "minInstances", service.min_instances, f"at most maxInstances ({service.max_instances})"
        )
    if cpu and memory_mib and (problem := limits.check_memory(cpu, memory_mib)):
        r.fail("memory", memory, problem)
    if cpu and cpu.vcpu < 1:
        _check_fractional_cpu(r, service)
    if service.gpu:
        _check_gpu(r, service, cpu_known=cpu is not None)
    return service


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
        r.fail(
            "cpuAlwaysAllocated", False, f"true with gpu {gpu}: GPUs need instance-based billing"
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
