"""Raw config strings → validated `Settings`, every problem collected before anything is declared.

Each section (model, image, service, access, gke, knative) is parsed here; what depends on more
than one value (the CPU/memory table, GPU minimums, what Knative cannot express) is in `checks`.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping

from infra import limits, regions
from infra.rollout import keys as rollout_keys
from infra.rollout.checks import rollout_problems
from infra.rollout.traffic import MAX_CANDIDATE_PERCENT
from infra.settings import checks, derive, parse, service_section
from infra.settings.autoscaling import autoscaling_settings, preset
from infra.settings.front_door import front_door_settings, stack_regions
from infra.settings.monitoring import monitoring_settings
from infra.settings.parse import RawConfig
from infra.settings.schema import (
    BUILDERS,
    INGRESS,
    KNATIVE_INGRESSES,
    KNATIVE_MIN_MINOR,
    LIST_EXAMPLES,
    MAGIC_DNS_DOMAINS,
    PLATFORMS,
    PRECISIONS,
    PUBLIC_ACCESS,
    RELEASE_CHANNELS,
    RESERVED_NAMESPACES,
    RUNTIMES,
    AccessSettings,
    GkeSettings,
    ImageSettings,
    KnativeSettings,
    ModelSettings,
    RolloutSettings,
    Settings,
    SettingsError,
)
from service.bake import accuracy
from service.bake.manifest import AUTO_PRECISION


def build_settings(raw: Mapping[str, str], *, project: str, region: str, stack: str) -> Settings:
    """Parse and validate raw config strings (as `pulumi.Config` returns them)."""
    # `autoscaling: steady` fills config text in where the stack left it unset (infra/settings/
    # autoscaling.py); a problem with a value it filled in is a consequence, as with the gpu's.
    presets = preset(raw)
    r = RawConfig(ChainMap(presets, raw))
    r.derived = frozenset(presets)
    unset = derive.unset_keys(raw)  # filled after parsing with what the gpu (or its absence) needs
    if not project:
        r.problems.append("gcp:project: not set — run `pulumi config set gcp:project YOUR_PROJECT`")
    if not region:
        r.problems.append("gcp:region: not set — run `pulumi config set gcp:region us-central1`")
    if project and (problem := regions.check_project(project)):
        r.fail("gcp:project", project, problem)
    if region and (problem := regions.check_region(region)):
        r.fail("gcp:region", region, problem)

    model = ModelSettings(
        id=r.text("modelId"),
        revision=r.text("modelRevision"),
        runtime="" if "runtime" in unset else r.choice("runtime", RUNTIMES),
        precision=r.choice("precision", (AUTO_PRECISION, *PRECISIONS)),
        int8_accuracy_margin=r.number("int8AccuracyMargin", *accuracy.MARGIN_RANGE, accuracy.MARGIN_VALID),
    )
    if not parse.MODEL_ID.match(model.id):
        r.fail(
            "modelId",
            model.id,
            "a Hugging Face Hub id like distilbert/distilbert-base-cased-distilled-squad",
        )
    checks.check_model_labels(r, model)
    if "modelRevision" in raw and not model.revision.strip():
        r.fail("modelRevision", model.revision, "a Hub commit hash or tag (pin it: branches move)")

    image = ImageSettings(
        prebuilt=r.text("image").strip(),
        builder=r.choice("builder", BUILDERS),
        keep_versions=r.integer("repositoryKeepVersions", 1, 100),
    )
    if image.prebuilt and not parse.IMAGE_REF.match(image.prebuilt):
        r.fail(
            "image",
            image.prebuilt,
            "an image reference like REGION-docker.pkg.dev/PROJECT/REPO/NAME@sha256:…, "
            "or empty to build from service/",
        )
    elif image.prebuilt and (problem := regions.check_artifact_registry(image.prebuilt)):
        r.fail("image", image.prebuilt, problem)

    # Read first: which platform's limits the service settings are checked against.
    platform = r.choice("platform", PLATFORMS)
    service, model = service_section.settings(r, platform, unset, model)
    access = AccessSettings(
        public=r.flag("public"),
        invokers=r.strings("invokers", LIST_EXAMPLES["invokers"]),
        ingress=r.choice("ingress", INGRESS),
        public_access=r.choice("publicAccess", PUBLIC_ACCESS),
    )
    checks.check_invokers(r, access)
    checks.check_public_access(r, access, platform)
    if platform == "cloudrun":
        checks.check_cloud_run_placement(r, service, region)
    service_regions = stack_regions(r, region, platform, service)
    front_door = front_door_settings(r, platform, access)
    checks.check_runtime(r, model, service)

    deletion_protection = r.flag("deletionProtection")
    gke = _gke_settings(r, region, platform)
    knative = _knative_settings(r)
    monitoring = monitoring_settings(r, service)
    scaling = autoscaling_settings(r, platform, service.min_instances, service.max_instances)
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
        rollout=_rollout_settings(r, service.name, len(service_regions)),
        monitoring=monitoring,
        autoscaling=scaling,
        regions=service_regions,
        front_door=front_door,
    )
    if platform == "knative":
        checks.check_knative(r, settings)
    if problems := r.all_problems():
        raise SettingsError(problems)
    return settings


def _rollout_settings(r: RawConfig, service_name: str, regions: int) -> RolloutSettings:
    rollout = RolloutSettings(
        mode=r.text(rollout_keys.ROLLOUT),
        serving_revision=r.text(rollout_keys.SERVING_REVISION).strip(),
        candidate_percent=r.integer(rollout_keys.CANDIDATE_PERCENT, 0, MAX_CANDIDATE_PERCENT),
        previous_revision=r.text(rollout_keys.PREVIOUS_REVISION).strip(),
        regions=r.integer(rollout_keys.ROLLOUT_REGIONS, 0, max(regions, 1), ": 0 for every region"),
    )
    if rollout.regions and rollout.mode != "gated":
        r.fail(rollout_keys.ROLLOUT_REGIONS, rollout.regions, "0 unless `rollout: gated`")
    for key, value, valid in rollout_problems(
        rollout.mode,
        rollout.serving_revision,
        rollout.candidate_percent,
        rollout.previous_revision,
        service_name,
    ):
        r.fail(key, value, valid)
    return rollout


def _gke_settings(r: RawConfig, region: str, platform: str) -> GkeSettings:
    location = r.text("gkeLocation").strip() or region
    gke = GkeSettings(
        location=location,
        release_channel=r.choice("gkeReleaseChannel", RELEASE_CHANNELS),
        machine_type=r.text("gkeMachineType").strip(),
        min_nodes=r.integer("gkeMinNodes", 0, 100),
        max_nodes=r.integer("gkeMaxNodes", 1, 100),
        private_nodes=r.flag("gkePrivateNodes"),
        master_authorized_networks=r.strings(
            "gkeMasterAuthorizedNetworks", LIST_EXAMPLES["gkeMasterAuthorizedNetworks"]
        ),
        gpu_machine_type=r.text("gkeGpuMachineType").strip(),
        gpu_max_nodes=r.integer("gkeGpuMaxNodes", 0, 100),
    )
    zone = parse.ZONE.match(location)
    # A cross-check with the cluster's region: only where there is a cluster (Cloud Run stacks
    # ignore gkeLocation, as Pulumi.yaml says; a malformed value elsewhere still fails).
    if platform == "knative" and region and location != region and not (zone and zone.group(1) == region):
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
        if not parse.valid_cidr(cidr):
            r.fail("gkeMasterAuthorizedNetworks", cidr, "an IPv4 CIDR such as 203.0.113.7/32")
    return gke


def _knative_settings(r: RawConfig) -> KnativeSettings:
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
    version = parse.KNATIVE_VERSION.match(knative.version)
    if not version or int(version.group(1)) < KNATIVE_MIN_MINOR:
        r.fail(
            "knativeVersion",
            knative.version,
            f"a Knative release tag like knative-v1.23.0 (knative-v1.{KNATIVE_MIN_MINOR}.0 or newer)",
        )
    if not parse.DOMAIN.match(knative.domain):
        r.fail(
            "knativeDomain",
            knative.domain,
            f"{' or '.join(MAGIC_DNS_DOMAINS)} (magic DNS on the ingress IP), or a DNS domain you own",
        )
    if (
        not parse.DNS_LABEL.match(knative.namespace)
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
