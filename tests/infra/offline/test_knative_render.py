"""`platform: knative` through the offline render: smoke renders, install order, applyable YAML."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from infra_helpers import by_type, cli, rendered

from infra.offline import render as rendering
from infra.settings import SettingsError

ROOT = Path(__file__).resolve().parents[3]
SCHEMA = json.loads((ROOT / "infra" / "schemas" / "knative-service.schema.json").read_text())
KSVC = "kubernetes:serving.knative.dev/v1:Service"
CONFIG_FILE = "kubernetes:yaml/v2:ConfigFile"
PATCH = "kubernetes:core/v1:ConfigMapPatch"


@pytest.fixture(scope="module")
def dev_knative() -> rendering.Rendering:
    return rendered("dev", {"platform": "knative"})


@pytest.fixture(scope="module")
def gke_yaml() -> str:
    result = cli("render", "gke", "--format", "yaml")
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.slow
def test_dev_as_knative_via_the_cli_has_the_whole_path():
    result = cli("render", "dev", "--set", "platform=knative", "--format", "json")
    assert result.returncode == 0, result.stderr
    resources = json.loads(result.stdout)
    types = {r["type"] for r in resources}
    assert {
        "gcp:container/cluster:Cluster",
        "gcp:container/nodePool:NodePool",
        "pulumi:providers:kubernetes",
        CONFIG_FILE,
        PATCH,
        KSVC,
    } <= types
    assert "gcp:cloudrunv2/service:Service" not in types
    files = [r["inputs"]["file"] for r in by_type(resources, CONFIG_FILE)]
    assert all("/knative-v1.23.0/" in f for f in files) and len(files) == 3
    assert any(f.endswith("/kourier.yaml") for f in files)
    apis = {r["inputs"]["service"] for r in by_type(resources, "gcp:projects/service:Service")}
    assert {"container.googleapis.com", "compute.googleapis.com", "iam.googleapis.com"} <= apis
    assert "run.googleapis.com" not in apis


@pytest.mark.slow
@pytest.mark.parametrize("stack", ["dev", "gke"])
def test_knative_smoke_render(stack, dev_knative):
    result = dev_knative if stack == "dev" else rendered("gke")
    assert set(result.outputs) >= {"url", "image", "serviceAccount", "curl", "ingressIp", "getCredentials"}
    [ksvc] = by_type(result.resources, KSVC)
    name = ksvc["inputs"]["metadata"]["name"]
    assert name == {"dev": "qa-dev", "gke": "qa-gke"}[stack]
    ip = result.outputs["ingressIp"]
    assert result.outputs["url"] == f"http://{name}.qa.{ip}.sslip.io"  # public: through Kourier
    assert result.outputs["curl"].startswith(f"curl -sS -X POST {result.outputs['url']}/predict")
    assert result.outputs["getCredentials"].startswith(
        f"gcloud container clusters get-credentials {name}-cluster"
    )
    assert "@sha256:" in result.outputs["image"]
    assert ksvc["inputs"]["spec"]["template"]["spec"]["containers"][0]["image"] == result.outputs["image"]
    gateway = next(r for r in result.resources if r["type"] == "kubernetes:core/v1:ServicePatch")
    assert gateway["inputs"]["spec"]["loadBalancerIP"] == ip


@pytest.mark.slow
def test_install_order_is_expressed_as_dependencies(dev_knative):
    deps = {r["name"]: set(r["dependsOn"]) for r in dev_knative.resources}
    assert "knative-crds" in deps["knative-core"]  # core after the CRDs
    assert "knative-core" in deps["knative-kourier"]  # networking after core
    patches = [r["name"] for r in by_type(dev_knative.resources, PATCH)]
    assert len(patches) == 4
    for patch in patches:
        assert "knative-core" in deps[patch], patch  # the ConfigMaps exist once core does
    assert "knative-kourier" in deps["knative-kourier-address"]
    install = {"knative-crds", "knative-core", "knative-kourier", "knative-kourier-address", *patches}
    assert install <= deps["qa-dev-service"]  # the Knative Service after the whole install
    # and the cluster before all of it: the provider waits for the cluster and its nodes
    assert {"gke-cluster", "gke-nodes"} <= deps["gke-kubernetes"]


@pytest.mark.slow
def test_knative_service_in_the_render_validates(dev_knative):
    [ksvc] = by_type(dev_knative.resources, KSVC)
    manifest = rendering.kubernetes_manifest(ksvc["type"], ksvc["inputs"])
    errors = [e.message for e in jsonschema.Draft202012Validator(SCHEMA).iter_errors(manifest)]
    assert errors == []
    assert list(manifest)[:2] == ["apiVersion", "kind"]
    assert (manifest["kind"], manifest["metadata"]["namespace"]) == ("Service", "qa")


@pytest.mark.slow
def test_yaml_is_applyable_manifests(gke_yaml):
    documents = list(yaml.safe_load_all(gke_yaml))
    assert len(documents) >= 8
    for doc in documents:
        assert isinstance(doc["apiVersion"], str) and isinstance(doc["kind"], str)
        assert doc["metadata"]["name"]
    kinds = [(d["kind"], d["metadata"]["name"]) for d in documents]
    assert ("Namespace", "qa") in kinds
    assert {
        ("ConfigMap", c) for c in ("config-network", "config-domain", "config-autoscaler", "config-defaults")
    } <= set(kinds)
    # kubectl applies in file order: the namespace before everything in it
    first_in_qa = min(i for i, d in enumerate(documents) if d["metadata"].get("namespace") == "qa")
    assert kinds.index(("Namespace", "qa")) < first_in_qa
    [ksvc] = [d for d in documents if d["apiVersion"] == "serving.knative.dev/v1"]
    assert kinds.index(("Service", "qa-gke")) == len(kinds) - 1
    jsonschema.Draft202012Validator(SCHEMA).validate(ksvc)
    assert not any(d["kind"] in ("Provider", "ConfigFile") for d in documents)


@pytest.mark.slow
def test_yaml_names_the_release_manifests_to_apply_first_in_order(gke_yaml):
    applies = [
        line.split()[-1]
        for line in gke_yaml.splitlines()
        if line.startswith("#   kubectl apply --server-side -f https://")
    ]
    assert [url.rsplit("/", 1)[-1] for url in applies] == [
        "serving-crds.yaml",
        "serving-core.yaml",
        "kourier.yaml",
    ]
    assert all("/knative-v1.23.0/" in url for url in applies)


@pytest.mark.slow
def test_yaml_render_is_deterministic(gke_yaml):
    assert cli("render", "gke", "--format", "yaml").stdout == gke_yaml


@pytest.mark.slow
def test_prod_on_knative_is_private_and_protected():
    result = rendered("prod", {"platform": "knative", "gkeMaxNodes": "10"})
    [ksvc] = by_type(result.resources, KSVC)
    assert ksvc["inputs"]["metadata"]["labels"]["networking.knative.dev/visibility"] == "cluster-local"
    assert result.outputs["url"] == "http://qa.qa.svc.cluster.local"
    assert result.outputs["curl"].startswith("kubectl run qa-curl -n qa ")
    [cluster] = by_type(result.resources, "gcp:container/cluster:Cluster")
    assert cluster["inputs"]["deletionProtection"] is True


@pytest.mark.slow
def test_prod_on_knative_explains_what_does_not_fit():
    with pytest.raises(SettingsError) as caught:
        rendering.render("prod", {"platform": "knative"})
    assert caught.value.problems == [
        "maxInstances: 10 is not valid — at most 3 on knative: 1 pod(s) per e2-standard-4 node × "
        "gkeMaxNodes 3; raise gkeMaxNodes or use a larger gkeMachineType"
    ]


@pytest.mark.slow
def test_cloud_run_stacks_declare_nothing_of_knative():
    result = rendered("dev")
    assert not [
        r
        for r in result.resources
        if r["type"].startswith(("kubernetes:", "gcp:container/", "pulumi:providers:kubernetes"))
    ]
