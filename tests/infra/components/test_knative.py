"""The Knative side: one spec, two platforms that agree; the Service fits Knative's own schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pulumi
import pytest
from infra_helpers import declare, make_settings, rendered

from infra.components.knative import KnativeInstall, KnativeModelService, KnativeModelServiceArgs
from infra.components.knative.manifests import (
    config_autoscaler,
    config_defaults,
    config_domain,
    config_features,
    knative_curl_example,
    knative_service_manifest,
    release_manifests,
)
from infra.plan import install_args, model_service_spec
from service.region import REGION_ENV

ROOT = Path(__file__).resolve().parents[3]
SCHEMA = json.loads((ROOT / "infra" / "schemas" / "knative-service.schema.json").read_text())
KSVC = "kubernetes:serving.knative.dev/v1:Service"
CLOUD_RUN = "gcp:cloudrunv2/service:Service"
DIGEST_REF = "europe-west1-docker.pkg.dev/proj/repo/qa@sha256:" + "a" * 64


def one(resources: list[dict], resource_type: str) -> dict:
    [resource] = [r for r in resources if r["type"] == resource_type]
    return resource


def manifest_for(settings, **overrides) -> dict:
    args = {
        "namespace": settings.knative.namespace,
        "service_account": settings.service.name,
        "public": settings.access.public,
        "initial_scale": settings.knative.initial_scale,
        "target": settings.knative.target,
        "labels": settings.labels,
    }
    return knative_service_manifest(model_service_spec(settings, DIGEST_REF), **{**args, **overrides})


def validate(manifest: dict) -> list[str]:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(manifest)]


# --- the same settings on both platforms --------------------------------------------------------


def assert_platforms_agree(cloud_run: dict, ksvc: dict) -> None:
    """Field by field: what Cloud Run and Knative were told to run is the same thing."""
    template = cloud_run["inputs"]["template"]
    [run_container] = template["containers"]
    pod = ksvc["inputs"]["spec"]["template"]["spec"]
    annotations = ksvc["inputs"]["spec"]["template"]["metadata"]["annotations"]
    [container] = pod["containers"]
    assert pod["containerConcurrency"] == template["maxInstanceRequestConcurrency"]
    assert f"{pod['timeoutSeconds']}s" == template["timeout"]
    assert int(annotations["autoscaling.knative.dev/min-scale"]) == template["scaling"]["minInstanceCount"]
    assert int(annotations["autoscaling.knative.dev/max-scale"]) == template["scaling"]["maxInstanceCount"]
    assert container["resources"]["limits"] == run_container["resources"]["limits"]
    assert container["resources"]["requests"] == {
        k: v for k, v in run_container["resources"]["limits"].items() if k != "nvidia.com/gpu"
    }
    # Same names, values and order, but the region Cloud Run's component adds per region
    # (X-Instance-Region; Knative runs in one cluster and sends no region header).
    [region] = [e for e in run_container["envs"] if e["name"] == REGION_ENV]
    assert region["value"] == cloud_run["inputs"]["location"]
    assert container["env"] == [e for e in run_container["envs"] if e["name"] != REGION_ENV]
    assert container["startupProbe"] == run_container["startupProbe"]
    assert container["livenessProbe"] == run_container["livenessProbe"]
    assert container["image"] == run_container["image"] and "@sha256:" in container["image"]
    assert container["ports"][0]["containerPort"] == run_container["ports"]["containerPort"]
    assert container["ports"][0]["name"] == run_container["ports"]["name"] == "http1"


@pytest.mark.slow
@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {
            "concurrency": "4",
            "cpu": "1",
            "memory": "2Gi",
            "minInstances": "1",
            "maxInstances": "3",
            "timeoutSeconds": "300",
            "modelLoadSeconds": "45",
            "logLevel": "DEBUG",
            "maxContextChars": "5000",
        },
    ],
)
def test_cloud_run_and_knative_renderings_agree(overrides):
    cloud_run = one(rendered("dev", overrides).resources, CLOUD_RUN)
    ksvc = one(rendered("dev", {**overrides, "platform": "knative"}).resources, KSVC)
    assert_platforms_agree(cloud_run, ksvc)


def test_gpu_renderings_agree_at_component_level():
    gpu = {"gpu": "nvidia-l4", "cpu": "4", "memory": "16Gi"}
    run_spec = model_service_spec(make_settings(**gpu, cpuAlwaysAllocated="true"), DIGEST_REF)
    knative = make_settings(platform="knative", gkeGpuMaxNodes="3", **gpu)
    manifest = manifest_for(knative)
    container = manifest["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["limits"] == {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "1"}
    # cpuAlwaysAllocated is derived from gpu on both (Knative ignores it): the specs agree.
    assert run_spec == model_service_spec(knative, DIGEST_REF)


def test_knative_ignores_cloud_run_only_knobs():
    base = manifest_for(make_settings(platform="knative"))
    for knobs in ({"startupCpuBoost": "false"}, {"cpuAlwaysAllocated": "true"}):
        assert manifest_for(make_settings(platform="knative", **knobs)) == base


# --- the rendered Knative Service -------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {
            "public": "false",
            "minInstances": "1",
            "knativeInitialScale": "0",
            "concurrency": "8",
            "knativeTarget": "6",
        },
        {"gpu": "nvidia-l4", "cpu": "4", "memory": "16Gi", "gkeGpuMaxNodes": "3"},
    ],
)
def test_knative_service_validates_against_the_schema(overrides):
    manifest = manifest_for(make_settings(platform="knative", **overrides))
    assert validate(manifest) == []


def test_schema_catches_what_kubernetes_would_silently_drop():
    manifest = manifest_for(make_settings(platform="knative"))
    pod = manifest["spec"]["template"]["spec"]
    pod["containerConcurency"] = 1  # typo: Kubernetes would prune it, the limit would be lost
    pod["containers"][0]["resources"]["limits"]["cpu"] = ["2"]
    manifest["status"] = {"url": "http://x"}
    errors = validate(manifest)
    assert len(errors) == 3, errors
    assert any("containerConcurency" in e for e in errors)
    assert any(e.startswith("spec/template/spec/containers/0/resources/limits/cpu") for e in errors)
    assert any("status" in e for e in errors)


def _feature_flags_used(node: dict, instance) -> set[str]:
    """config-features flags of the schema fields `instance` uses."""
    flags = {node["x-knative-feature"]} if "x-knative-feature" in node else set()
    if isinstance(instance, dict):
        for key, value in instance.items():
            child = node.get("properties", {}).get(key)
            if child is not None:
                flags |= _feature_flags_used(child, value)
    elif isinstance(instance, list) and "items" in node:
        for item in instance:
            flags |= _feature_flags_used(node["items"], item)
    return flags


@pytest.mark.parametrize("gpu", [False, True])
def test_fields_behind_knative_feature_flags_are_enabled_by_the_install(gpu):
    overrides = {"gpu": "nvidia-l4", "cpu": "4", "memory": "16Gi", "gkeGpuMaxNodes": "3"} if gpu else {}
    manifest = manifest_for(make_settings(platform="knative", **overrides))
    used = _feature_flags_used(SCHEMA, manifest)
    gpu_flags = {"kubernetes.podspec-nodeselector", "kubernetes.podspec-tolerations"}
    assert used == {"kubernetes.podspec-volumes-emptydir"} | (gpu_flags if gpu else set())
    assert {flag for flag, state in config_features(gpu).items() if state == "enabled"} == used


def test_knative_service_shape():
    manifest = manifest_for(
        make_settings(
            platform="knative", concurrency="4", minInstances="1", maxInstances="3", knativeInitialScale="2"
        )
    )
    assert (manifest["apiVersion"], manifest["kind"]) == ("serving.knative.dev/v1", "Service")
    assert manifest["metadata"]["name"] == "qa" and manifest["metadata"]["namespace"] == "qa"
    assert manifest["metadata"]["labels"]["networking.knative.dev/visibility"] == "cluster-local"
    assert manifest["metadata"]["annotations"] == {"pulumi.com/waitFor": "condition=Ready"}
    template = manifest["spec"]["template"]
    assert template["metadata"]["annotations"] == {
        "autoscaling.knative.dev/metric": "concurrency",
        "autoscaling.knative.dev/target": "4",  # knativeTarget 0: concurrency
        "autoscaling.knative.dev/min-scale": "1",
        "autoscaling.knative.dev/max-scale": "3",
        "autoscaling.knative.dev/initial-scale": "2",
    }
    pod = template["spec"]
    assert pod["serviceAccountName"] == "qa" and pod["automountServiceAccountToken"] is False
    [container] = pod["containers"]
    assert container["readinessProbe"]["httpGet"] == {"path": "/ready", "port": 8080}
    assert container["startupProbe"]["httpGet"]["path"] == "/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
        "readOnlyRootFilesystem": True,
    }
    # /tmp, the image's only writable path, is an emptyDir; the rest of the filesystem is read-only.
    assert container["volumeMounts"] == [{"name": "scratch", "mountPath": "/tmp"}]
    assert pod["volumes"] == [{"name": "scratch", "emptyDir": {"sizeLimit": "256Mi"}}]
    assert "nodeSelector" not in pod and "tolerations" not in pod
    assert manifest["spec"]["traffic"] == [{"latestRevision": True, "percent": 100}]


def test_public_service_is_not_cluster_local_and_gpu_service_lands_on_gpu_nodes():
    manifest = manifest_for(
        make_settings(
            platform="knative", public="true", gpu="nvidia-l4", cpu="4", memory="16Gi", gkeGpuMaxNodes="3"
        )
    )
    assert "networking.knative.dev/visibility" not in manifest["metadata"]["labels"]
    pod = manifest["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"cloud.google.com/gke-accelerator": "nvidia-l4"}
    assert pod["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]


# --- components --------------------------------------------------------------------------------


def _model_service(settings, workload_pool="proj.svc.id.goog"):
    def program():
        provider = pulumi.ProviderResource("kubernetes", "cluster")
        service = KnativeModelService(
            settings.service.name,
            KnativeModelServiceArgs(
                spec=model_service_spec(settings, DIGEST_REF),
                provider=provider,
                namespace=settings.knative.namespace,
                gateway_namespace="kourier-system",
                service_account_email="qa-runtime@proj.iam.gserviceaccount.com",
                service_account_name="projects/proj/serviceAccounts/qa-runtime@proj.iam.gserviceaccount.com",
                workload_pool=workload_pool,
                public=settings.access.public,
                initial_scale=settings.knative.initial_scale,
                labels=settings.labels,
            ),
        )
        pulumi.export("url", service.url)
        pulumi.export("revision", service.latest_revision)

    return declare(program)


@pytest.mark.slow  # declares a whole Knative stack
def test_model_service_runs_as_the_runtime_identity_through_workload_identity():
    declared = _model_service(make_settings(platform="knative"))
    account = declared["qa-account"].inputs
    assert account["metadata"]["annotations"] == {
        "iam.gke.io/gcp-service-account": "qa-runtime@proj.iam.gserviceaccount.com"
    }
    assert account["metadata"]["namespace"] == "qa" and account["automountServiceAccountToken"] is False
    binding = declared["qa-workload-identity"]
    assert binding.type == "gcp:serviceaccount/iAMMember:IAMMember"
    assert binding.inputs["role"] == "roles/iam.workloadIdentityUser"
    assert binding.inputs["member"] == "serviceAccount:proj.svc.id.goog[qa/qa]"
    assert binding.inputs["serviceAccountId"].endswith("/qa-runtime@proj.iam.gserviceaccount.com")
    namespace = declared["qa-namespace"].inputs["metadata"]
    assert namespace["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
    assert namespace["labels"]["pod-security.kubernetes.io/warn"] == "restricted"
    service = declared["qa-service"]
    assert service.type == KSVC and service.parent == "qa"
    assert {"qa-account", "qa-namespace", "qa-workload-identity", "qa-network-policy"} <= set(
        service.dependencies
    )
    for name in ("qa-account", "qa-namespace", "qa-network-policy", "qa-service"):
        assert declared[name].provider == "cluster", name  # the cluster's provider, explicitly
    # A private service is cluster-local: the mock answers as Knative's controller would.
    assert declared.outputs["url"] == "http://qa.qa.svc.cluster.local"
    # The revision is named from its content, and Knative reports it under that name.
    revision = service.inputs["spec"]["template"]["metadata"]["name"]
    assert revision.startswith("qa-r") and declared.outputs["revision"] == revision


@pytest.mark.slow  # declares the whole Knative model service
def test_network_policy_lets_only_knative_and_the_gateway_in():
    spec = _model_service(make_settings(platform="knative"))["qa-network-policy"].inputs["spec"]
    assert spec["podSelector"] == {} and spec["policyTypes"] == ["Ingress"]
    sources = [
        p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for p in spec["ingress"][0]["from"]
    ]
    assert sources == ["knative-serving", "kourier-system", "qa"]


@pytest.mark.slow  # declares the whole Knative install
def test_install_pins_the_release_and_tunes_config():
    settings = make_settings(platform="knative", knativeInitialScale="0", timeoutSeconds="120")

    def program():
        provider = pulumi.ProviderResource("kubernetes", "cluster")
        install = KnativeInstall("knative", install_args(settings, provider))
        pulumi.export("domain", install.domain)

    declared = declare(program)
    files = {r.name: r.inputs["file"] for r in declared.of_type("kubernetes:yaml/v2:ConfigFile")}
    assert files == {
        "knative-crds": "https://github.com/knative/serving/releases/download/knative-v1.23.0/serving-crds.yaml",
        "knative-core": "https://github.com/knative/serving/releases/download/knative-v1.23.0/serving-core.yaml",
        "knative-kourier": "https://github.com/knative-extensions/net-kourier/releases/download/knative-v1.23.0/kourier.yaml",
    }
    data = {
        r.inputs["metadata"]["name"]: r.inputs["data"]
        for r in declared.of_type("kubernetes:core/v1:ConfigMapPatch")
    }
    assert data["config-network"] == {"ingress-class": "kourier.ingress.networking.knative.dev"}
    assert data["config-autoscaler"] == {
        "enable-scale-to-zero": "true",
        "scale-to-zero-grace-period": "30s",
        "scale-to-zero-pod-retention-period": "600s",
        "allow-zero-initial-scale": "true",
    }
    assert data["config-defaults"] == {
        "revision-timeout-seconds": "120",
        "max-revision-timeout-seconds": "600",
    }
    assert data["config-features"] == {"kubernetes.podspec-volumes-emptydir": "enabled"}  # /tmp
    [address] = declared.of_type("gcp:compute/address:Address")
    ip = declared.outputs["domain"].removesuffix(".sslip.io")
    assert data["config-domain"] == {f"{ip}.sslip.io": ""}
    [gateway] = declared.of_type("kubernetes:core/v1:ServicePatch")
    assert gateway.inputs["metadata"] == {"name": "kourier", "namespace": "kourier-system"}
    assert gateway.inputs["spec"] == {"loadBalancerIP": ip}
    assert address.inputs["addressType"] == "EXTERNAL" and address.inputs["region"] == "europe-west1"
    for r in declared.registrations:
        if r.type.startswith("kubernetes:"):
            assert r.provider == "cluster", r.name


def test_config_builders():
    assert release_manifests("knative-v1.20.1", "kourier")["crds"].endswith(
        "/knative-v1.20.1/serving-crds.yaml"
    )
    assert config_autoscaler(1, 30, 0)["allow-zero-initial-scale"] == "false"
    assert int(config_defaults(600)["max-revision-timeout-seconds"]) >= 600
    assert config_domain("qa.example.com", "1.2.3.4", magic_dns=False) == {"qa.example.com": ""}
    assert config_domain("sslip.io", "1.2.3.4", magic_dns=True) == {"1.2.3.4.sslip.io": ""}


def test_curl_examples():
    public = knative_curl_example("http://qa.qa.1.2.3.4.sslip.io", True, "qa")
    assert public.startswith("curl -sS -X POST http://qa.qa.1.2.3.4.sslip.io/predict ")
    private = knative_curl_example("http://qa.qa.svc.cluster.local", False, "qa")
    assert private.startswith("kubectl run qa-curl -n qa --rm -i --restart=Never --image=curlimages/curl -- ")
    assert "-X POST http://qa.qa.svc.cluster.local/predict" in private
