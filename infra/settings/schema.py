"""What a stack's settings are: the valid choices, the typed (frozen) settings and the key list.

The keys and defaults come from Pulumi.yaml's `config:` schema, the values from the stack file; `build`
parses and checks them into these dataclasses. Choices that are facts of the platform or the
service (builders, log levels, runtimes and precisions) are declared there and named here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pulumi

from infra.ingresses import KNATIVE_INGRESSES
from infra.limits import BUILDERS, GKE_RELEASE_CHANNELS, LOG_LEVELS, Cpu
from infra.settings.autoscaling import AutoscalingSettings
from infra.settings.parse import ZONE
from infra.settings.project_file import config_keys

# The (runtime, precision) pairs the image can serve: the service's artifact contract.
from service.bake.accuracy import DEFAULT_MARGIN as ACCURACY_DEFAULT_MARGIN
from service.bake.manifest import PRECISIONS, RUNTIMES, SUPPORTED

# Re-exported: settings/ names every choice, wherever the fact itself is declared.
__all__ = ["BUILDERS", "LOG_LEVELS", "PRECISIONS", "RUNTIMES", "SUPPORTED", "Cpu"]

PLATFORMS = ("cloudrun", "knative")
INGRESS = {
    "all": "INGRESS_TRAFFIC_ALL",
    "internal": "INGRESS_TRAFFIC_INTERNAL_ONLY",
    "internal-and-cloud-load-balancing": "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER",
}
EXECUTION_ENVIRONMENTS = ("gen1", "gen2")
RELEASE_CHANNELS = GKE_RELEASE_CHANNELS
# Domains that resolve any IP embedded in the name: the stack puts the ingress IP in front.
MAGIC_DNS_DOMAINS = ("sslip.io", "nip.io")
KNATIVE_MIN_MINOR = 20  # oldest release line the rendered Service is checked against
_EMAIL = r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
_FEDERATED = r"iam\.googleapis\.com/\S+"
# IAM member forms (cloud.google.com/iam/docs/principal-identifiers): prefix → (rest, example).
MEMBER_FORMS = {
    "user:": (_EMAIL, "user:you@example.com"),
    "serviceAccount:": (_EMAIL, "serviceAccount:ci@PROJECT.iam.gserviceaccount.com"),
    "group:": (_EMAIL, "group:team@example.com"),
    "domain:": (r"[a-z0-9-]+(?:\.[a-z0-9-]+)+", "domain:example.com"),
    "principal://": (_FEDERATED, "principal://iam.googleapis.com/projects/…/subject/ID"),
    "principalSet://": (_FEDERATED, "principalSet://iam.googleapis.com/projects/…/*"),
}
MEMBER_PREFIXES = tuple(MEMBER_FORMS)
PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")
# How a public Cloud Run service is opened: an allUsers invoker grant, or Cloud Run's own switch
# that turns the invoker check off (works where domain-restricted sharing forbids allUsers).
PUBLIC_ACCESS = ("allUsers", "invokerIamDisabled")
# One item of each list setting, for messages that show how such a list is written.
LIST_EXAMPLES = {
    "invokers": MEMBER_FORMS["user:"][1],
    "alertEmails": "oncall@example.com",
    "gkeMasterAuthorizedNetworks": "203.0.113.7/32",
}

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
    # F1 points an int8 bake may lose against fp32 (service/bake/accuracy.py); int8 only.
    int8_accuracy_margin: float = ACCURACY_DEFAULT_MARGIN


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
    # Dynamic batching; max_batch_windows 0 leaves the service's default for its runtime.
    batching: bool = False
    batch_max_wait_ms: int = 0
    max_batch_windows: int = 0
    gpu_zonal_redundancy: bool = False  # Cloud Run: standby GPU capacity in another zone


@dataclass(frozen=True)
class AccessSettings:
    public: bool
    invokers: tuple[str, ...]
    ingress: str  # the setting's value; INGRESS maps it to the Cloud Run enum
    public_access: str = "allUsers"  # one of PUBLIC_ACCESS; only meaningful when public

    @property
    def invoker_iam_disabled(self) -> bool:
        return self.public and self.public_access == "invokerIamDisabled"


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
        return not ZONE.match(self.location)


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
        return KNATIVE_INGRESSES[self.ingress].ingress_class


@dataclass(frozen=True)
class RolloutSettings:
    """How a new revision reaches traffic, and the phase the rollout command has written."""

    mode: str  # one of infra.rollout.traffic.MODES
    serving_revision: str
    candidate_percent: int
    previous_revision: str
    regions: int = 0  # with several regions: how many take the phase (0: all)


@dataclass(frozen=True)
class MonitoringSettings:
    enabled: bool
    alert_emails: tuple[str, ...]
    availability_goal: float
    latency_goal: float
    latency_threshold_ms: int
    period_days: int
    billing_account: str  # "" for none
    monthly_budget: int  # 0 for none

    @property
    def budget(self) -> bool:
        return bool(self.billing_account) and self.monthly_budget > 0


@dataclass(frozen=True)
class FrontDoorSettings:
    """One global external Application Load Balancer in front of the regions (docs/multi-region.md)."""

    enabled: bool = False  # the `loadBalancer` key
    domain: str = ""  # the managed certificate's host; required with the front door
    rate_limit_per_minute: int = 0  # per client IP (Cloud Armor throttle); 0: no limit
    iap: bool = False  # Identity-Aware Proxy on the backend service: only `invokers` get through


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
    rollout: RolloutSettings
    monitoring: MonitoringSettings
    autoscaling: AutoscalingSettings = field(default_factory=AutoscalingSettings)
    # Where the Cloud Run service runs, gcp:region first when the stack lists none.
    regions: tuple[str, ...] = ()
    front_door: FrontDoorSettings = FrontDoorSettings()

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


# Every project key: Pulumi.yaml's `config:` declarations, in their order (one source).
CONFIG_KEYS = config_keys()
