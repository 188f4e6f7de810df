"""`platform: knative` settings: what carries over from Cloud Run, what is ignored, what is refused."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from infra_helpers import make_settings

from infra import limits
from infra.settings import CONFIG_KEYS, SettingsError

README = Path(__file__).resolve().parents[3] / "README.md"  # holds the platform mapping table


def knative(**overrides: str):
    return make_settings(platform="knative", **overrides)


def test_knative_defaults():
    settings = knative()
    gke, kn = settings.gke, settings.knative
    assert gke.location == "europe-west1" and gke.regional  # empty gkeLocation: the region
    assert (gke.release_channel, gke.machine_type, gke.min_nodes, gke.max_nodes) == (
        "REGULAR",
        "e2-standard-4",
        1,
        3,
    )
    assert gke.private_nodes is True and gke.master_authorized_networks == ()
    assert (gke.gpu_machine_type, gke.gpu_max_nodes) == ("g2-standard-8", 0)
    assert kn.version == "knative-v1.23.0" and kn.ingress == "kourier"
    assert kn.ingress_class == "kourier.ingress.networking.knative.dev"
    assert kn.domain == "sslip.io" and kn.magic_dns
    assert (kn.namespace, kn.initial_scale, kn.target) == ("qa", 1, 0)
    assert (kn.scale_to_zero_grace_seconds, kn.scale_to_zero_pod_retention_seconds) == (30, 600)


def test_a_zone_of_the_region_makes_a_zonal_cluster():
    gke = knative(gkeLocation="europe-west1-b").gke
    assert gke.location == "europe-west1-b" and not gke.regional


@pytest.mark.parametrize(
    "overrides",
    [
        # Cloud Run's CPU sizes and CPU↔memory table do not apply: any quantity that fits a node.
        {"cpu": "3", "memory": "3Gi"},
        {"cpu": "1500m", "memory": "12Gi"},
        {"cpu": "0.5", "memory": "2Gi", "concurrency": "4"},  # Cloud Run: 1 below 1 vCPU
        # Ignored on Knative (documented in the README's mapping table), so both values are accepted.
        {"startupCpuBoost": "false"},
        {"cpuAlwaysAllocated": "true"},
        {"cpuAlwaysAllocated": "false", "startupCpuBoost": "true"},
        # GPU: Knative needs the GPU pool, not Cloud Run's instance-based billing.
        {"gpu": "nvidia-l4", "cpu": "4", "memory": "16Gi", "gkeGpuMaxNodes": "3"},
        {"timeoutSeconds": "600"},
        {"knativeInitialScale": "0"},
        {"concurrency": "4", "knativeTarget": "3"},
        {"knativeDomain": "qa.example.com"},
        {"gkeMasterAuthorizedNetworks": '["203.0.113.7/32", "198.51.100.0/24"]'},
        {"gkeMachineType": "n2-highmem-8", "cpu": "6", "memory": "40Gi"},
    ],
)
def test_settings_that_only_fit_knative_pass(overrides):
    settings = knative(**overrides)
    assert settings.platform == "knative"
    # Each accepted value is the one the stack asked for (none fell back to a default).
    parsed = {
        "cpu": settings.service.cpu.text,
        "memory": settings.service.memory,
        "concurrency": str(settings.service.concurrency),
        "startupCpuBoost": str(settings.service.startup_cpu_boost).lower(),
        "cpuAlwaysAllocated": str(settings.service.cpu_always_allocated).lower(),
        "gpu": settings.service.gpu,
        "gkeGpuMaxNodes": str(settings.gke.gpu_max_nodes),
        "timeoutSeconds": str(settings.service.timeout_seconds),
        "knativeInitialScale": str(settings.knative.initial_scale),
        "knativeTarget": str(settings.knative.target),
        "knativeDomain": settings.knative.domain,
        "gkeMasterAuthorizedNetworks": json.dumps(list(settings.gke.master_authorized_networks)),
        "gkeMachineType": settings.gke.machine_type,
    }
    assert {key: parsed[key] for key in overrides} == overrides


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"invokers": '["user:a@example.com"]'},
            'invokers: ["user:a@example.com"] is not valid — empty on knative: Knative has no per-caller '
            "IAM; a private service (public: false) is cluster-local, reachable only from inside the cluster",
        ),
        (
            {"ingress": "internal"},
            'ingress: "internal" is not valid — all on knative: use public: false for a cluster-local '
            "service instead",
        ),
        (
            {"cpu": "0.5", "memory": "512Mi", "executionEnvironment": "gen1"},
            'executionEnvironment: "gen1" is not valid — gen2 on knative: GKE nodes run containers '
            "without gen1's gVisor sandbox",
        ),
        (
            {"timeoutSeconds": "601"},
            "timeoutSeconds: 601 is not valid — at most 600 on knative: Knative's "
            "max-revision-timeout-seconds, bounded by how long its activator drains on shutdown",
        ),
        (
            {"cpu": "4"},
            'cpu: "4" is not valid — at most 3.495 on knative with gkeMachineType e2-standard-4 (what a '
            "node has left after GKE and system pods); use a larger gkeMachineType",
        ),
        (
            {"memory": "14Gi"},
            'memory: "14Gi" is not valid — at most 13109Mi on knative with gkeMachineType e2-standard-4 '
            "(what a node has left after GKE and system pods); use a larger gkeMachineType",
        ),
        (
            {"cpu": "2.0001"},
            'cpu: "2.0001" is not valid — a CPU quantity like 2, 1.5 or 500m (whole millicores)',
        ),
        (
            {"gpu": "nvidia-l4", "cpu": "4", "memory": "16Gi"},
            "gkeGpuMaxNodes: 0 is not valid — at least 1 with gpu nvidia-l4 on knative: the GPU node pool "
            "it runs on",
        ),
        (
            {"gpu": "nvidia-l4", "cpu": "8", "memory": "16Gi", "gkeGpuMaxNodes": "1"},
            'cpu: "8" is not valid — at most 7.484 on knative with gkeGpuMachineType g2-standard-8 (what a '
            "node has left after GKE and system pods); use a larger gkeGpuMachineType",
        ),
        (
            {"gpu": "nvidia-a100", "gkeGpuMaxNodes": "1"},
            'gpu: "nvidia-a100" is not valid — empty for none, or one of nvidia-l4',
        ),
        (
            {"maxInstances": "10"},
            "maxInstances: 10 is not valid — at most 3 on knative: 1 pod(s) per e2-standard-4 node × "
            "gkeMaxNodes 3; raise gkeMaxNodes or use a larger gkeMachineType",
        ),
        (
            {"gpu": "nvidia-l4", "cpu": "4", "memory": "16Gi", "gkeGpuMaxNodes": "2"},
            "maxInstances: 3 is not valid — at most 2 on knative: 1 pod(s) per g2-standard-8 node × "
            "gkeGpuMaxNodes 2; raise gkeGpuMaxNodes or use a larger gkeGpuMachineType",
        ),
        (
            {"knativeTarget": "2"},
            "knativeTarget: 2 is not valid — 0 (uses concurrency) or 1…1: at most concurrency, the hard limit",
        ),
        ({"knativeInitialScale": "4"}, "knativeInitialScale: 4 is not valid — at most maxInstances (3)"),
        (
            {"gkeLocation": "us-east1-b"},
            'gkeLocation: "us-east1-b" is not valid — empty or europe-west1 for a regional cluster, or a '
            "zone of europe-west1 such as europe-west1-a (the ingress IP and the image repository are in "
            "gcp:region)",
        ),
        (
            {"gkeMachineType": "e2-medium"},
            'gkeMachineType: "e2-medium" is not valid — a GCE machine type FAMILY-standard|highmem|highcpu-'
            "VCPUS, e.g. e2-standard-4 (families e2, n1, n2, n2d, n4, c2, c2d, c3, c3d, c4, t2d, g2)",
        ),
        (
            {"gkeGpuMachineType": "n2-standard-8"},
            'gkeGpuMachineType: "n2-standard-8" is not valid — a G2 machine type (NVIDIA L4): g2-standard-4, '
            "g2-standard-8, g2-standard-12, g2-standard-16, g2-standard-24, g2-standard-32, g2-standard-48, "
            "g2-standard-96",
        ),
        ({"gkeMinNodes": "4"}, "gkeMinNodes: 4 is not valid — at most gkeMaxNodes (3)"),
        (
            {"gkeReleaseChannel": "LTS"},
            'gkeReleaseChannel: "LTS" is not valid — one of RAPID, REGULAR, STABLE, EXTENDED',
        ),
        (
            {"gkeMasterAuthorizedNetworks": '["0.0.0.0"]'},
            'gkeMasterAuthorizedNetworks: "0.0.0.0" is not valid — an IPv4 CIDR such as 203.0.113.7/32',
        ),
        (
            {"knativeVersion": "v1.23.0"},
            'knativeVersion: "v1.23.0" is not valid — a Knative release tag like knative-v1.23.0 '
            "(knative-v1.20.0 or newer)",
        ),
        ({"knativeVersion": "knative-v1.19.2"}, 'knativeVersion: "knative-v1.19.2" is not valid'),
        ({"knativeIngress": "istio"}, 'knativeIngress: "istio" is not valid — one of kourier'),
        (
            {"knativeDomain": "not a domain"},
            'knativeDomain: "not a domain" is not valid — sslip.io or nip.io (magic DNS on the ingress IP), '
            "or a DNS domain you own",
        ),
        (
            {"knativeNamespace": "knative-serving"},
            'knativeNamespace: "knative-serving" is not valid — a Kubernetes namespace name of its own '
            "(lowercase letters, digits, '-'; not default, knative-serving, kourier-system, "
            "gke-managed-system or kube-*)",
        ),
        ({"knativeNamespace": "kube-public"}, 'knativeNamespace: "kube-public" is not valid'),
        (
            {"knativeScaleToZeroGraceSeconds": "5"},
            "knativeScaleToZeroGraceSeconds: 5 is not valid — a whole number 6…3600",
        ),
    ],
)
def test_each_unsupported_knative_combination_fails_with_its_message(overrides, expected):
    with pytest.raises(SettingsError) as caught:
        knative(**overrides)
    assert caught.value.problems == [expected] or caught.value.problems[0].startswith(expected)
    assert len(caught.value.problems) == 1, caught.value.problems


def test_knative_only_keys_are_still_parsed_on_cloudrun():
    # A malformed value is an error on any platform; cross-checks with the cluster are not.
    with pytest.raises(SettingsError, match=r"^gkeMaxNodes: 0 is not valid"):
        make_settings(gkeMaxNodes="0")
    settings = make_settings(invokers='["user:a@example.com"]', timeoutSeconds="3600", gkeGpuMaxNodes="0")
    assert settings.platform == "cloudrun"


def test_cloud_run_rules_stay_with_cloud_run():
    with pytest.raises(SettingsError, match=r'^cpu: "3" is not valid — 0\.08…1'):
        make_settings(cpu="3")
    with pytest.raises(SettingsError, match=r"^cpuAlwaysAllocated: false is not valid — true with gpu"):
        make_settings(gpu="nvidia-l4", cpuAlwaysAllocated="false")


def test_node_room_follows_gke_reservations():
    cpu, mib = limits.pod_room(limits.parse_machine_type("e2-standard-4"))
    # 4 vCPU − 80m kubelet/OS − 400m DaemonSets − 25m queue-proxy; 16 GiB − 2.6 GiB − 100 MiB − 512 MiB
    assert cpu == pytest.approx(3.495)
    assert mib == math.floor(16 * 1024 - (0.25 * 4096 + 0.2 * 4096 + 0.1 * 8192) - 100 - 512)
    assert limits.parse_machine_type("n1-standard-4").memory_mib == 15 * 1024
    assert limits.parse_machine_type("g2-standard-24").l4_gpus == 2
    assert limits.parse_machine_type("e2-medium") is None


def test_docs_map_every_setting_to_both_platforms():
    text = README.read_text()
    table = text[text.index("| setting | Cloud Run") :].split("\n\n", 1)[0]
    rows = [line.split(" | ") for line in table.splitlines()[2:]]
    documented = {key for row in rows for key in re.findall(r"`(\w+)`", row[0])}
    assert documented == set(CONFIG_KEYS)
    assert all(len(row) == 3 and row[1].strip() and row[2].strip(" |") for row in rows)
    for key in ("startupCpuBoost", "cpuAlwaysAllocated"):
        assert "**ignored**" in next(row[2] for row in rows if f"`{key}`" in row[0])
    for key in ("invokers", "ingress", "timeoutSeconds", "executionEnvironment", "gpu"):
        assert "**rejected" in next(row[2] for row in rows if f"`{key}`" in row[0]), key


def test_knative_problems_are_reported_with_the_others_and_never_from_a_fallback():
    with pytest.raises(SettingsError) as caught:
        knative(logLevel="LOUD", invokers='["user:a@example.com"]', timeoutSeconds="900")
    assert [p.split(":")[0] for p in caught.value.problems] == ["logLevel", "invokers", "timeoutSeconds"]
    # A value that did not parse is not cross-checked (its fallback would give a second, false line).
    for overrides, key in (
        ({"cpu": "lots", "maxInstances": "10"}, "cpu"),
        ({"maxInstances": "0", "knativeInitialScale": "1"}, "maxInstances"),
        ({"gkeMachineType": "big", "cpu": "9"}, "gkeMachineType"),
    ):
        with pytest.raises(SettingsError) as caught:
            knative(**overrides)
        assert [p.split(":")[0] for p in caught.value.problems] == [key]
