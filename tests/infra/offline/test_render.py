"""The offline render: the real program for every shipped stack, through the CLI contract."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from infra_helpers import by_type, cli, make_settings, rendered

from infra import plan, spec
from infra.offline import render as rendering
from infra.offline.stand_ins import OFFLINE_ACCESS_TOKEN
from infra.settings import SettingsError, settings_from_stack_files, stack_files

ROOT = Path(__file__).resolve().parents[3]
STACKS = stack_files.available_stacks()


@pytest.fixture(scope="module")
def dev() -> list[dict]:
    result = cli("render", "dev", "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_shipped_stacks_include_dev_and_prod():
    assert {"dev", "prod"} <= set(STACKS)


def _model_container(result: rendering.Rendering) -> tuple[dict, dict]:
    """(the model service resource, its container) on either platform."""
    [run] = by_type(result.resources, "gcp:cloudrunv2/service:Service") or [{}]
    if run:
        return run, run["inputs"]["template"]["containers"][0]
    [ksvc] = by_type(result.resources, "kubernetes:serving.knative.dev/v1:Service")
    return ksvc, ksvc["inputs"]["spec"]["template"]["spec"]["containers"][0]


@pytest.mark.slow
@pytest.mark.parametrize("stack", STACKS)
def test_every_shipped_stack_renders_what_its_settings_say(stack):
    result = rendered(stack)
    settings = settings_from_stack_files(stack)
    names = {r["name"] for r in result.resources}
    assert all(r["parent"] is None or r["parent"] in names for r in result.resources)
    service, container = _model_container(result)
    assert service["parent"] == settings.service.name
    env = {e["name"]: e["value"] for e in container.get("envs", container.get("env", []))}
    assert env["CONCURRENCY"] == str(settings.service.concurrency)
    assert env["MODEL_REVISION"] == settings.model.revision
    # Deployed by digest, and the exported image is the one that runs.
    assert "@sha256:" in container["image"] and container["image"] == result.outputs["image"]
    assert {"url", "serviceAccount", "curl"} <= set(result.outputs)
    assert result.outputs["curl"].startswith("curl") or result.outputs["curl"].startswith("kubectl run")


@pytest.mark.slow
def test_dev_render_json_has_the_whole_cloud_run_path(dev):
    assert all(set(r) == {"type", "name", "parent", "inputs"} for r in dev)
    apis = {r["inputs"]["service"] for r in by_type(dev, "gcp:projects/service:Service")}
    assert {"run.googleapis.com", "artifactregistry.googleapis.com", "iam.googleapis.com"} <= apis
    assert len(by_type(dev, "gcp:artifactregistry/repository:Repository")) == 1
    [build] = by_type(dev, "docker:index/image:Image")
    [account] = by_type(dev, "gcp:serviceaccount/account:Account")
    [service] = by_type(dev, "gcp:cloudrunv2/service:Service")
    template = service["inputs"]["template"]
    [container] = template["containers"]
    assert template["maxInstanceRequestConcurrency"] == 1
    assert container["resources"]["limits"] == {"cpu": "2", "memory": "3Gi"}
    assert container["resources"]["startupCpuBoost"] is True
    assert container["resources"]["cpuIdle"] is True  # explicit, not left to the provider
    assert template["serviceAccount"].startswith(account["inputs"]["accountId"] + "@")
    assert not template["serviceAccount"].endswith("-compute@developer.gserviceaccount.com")
    assert "@sha256:" in container["image"]
    assert container["image"].startswith(build["inputs"]["imageName"].rsplit(":", 1)[0] + "@")
    assert container["startupProbe"]["httpGet"]["path"] == "/ready"
    assert template["timeout"] == "60s"
    assert service["inputs"]["deletionProtection"] is False
    [invoker] = by_type(dev, "gcp:cloudrunv2/serviceIamMember:ServiceIamMember")
    assert (invoker["inputs"]["member"], invoker["inputs"]["role"]) == ("allUsers", "roles/run.invoker")


@pytest.mark.slow
def test_resources_that_need_an_api_wait_for_it():
    result = rendered("dev")
    apis = {r["name"] for r in result.resources if r["type"] == "gcp:projects/service:Service"}
    for resource in result.resources:
        if resource["type"].startswith("gcp:") and resource["name"] not in apis:
            assert apis <= set(resource["dependsOn"]), resource["name"]


@pytest.mark.slow
def test_prod_is_private_warm_and_protected():
    result = rendered("prod")
    [service] = by_type(result.resources, "gcp:cloudrunv2/service:Service")
    assert service["inputs"]["template"]["scaling"]["minInstanceCount"] >= 1
    assert service["inputs"]["deletionProtection"] is True
    members = [
        r["inputs"]["member"]
        for r in by_type(result.resources, "gcp:cloudrunv2/serviceIamMember:ServiceIamMember")
    ]
    assert "allUsers" not in members and "allAuthenticatedUsers" not in members
    assert "Authorization: Bearer" in result.outputs["curl"]


@pytest.mark.slow
def test_overrides_reach_the_program():
    result = rendered("prod", {"invokers": '["user:alice@example.com"]', "concurrency": "4"})
    [service] = by_type(result.resources, "gcp:cloudrunv2/service:Service")
    assert service["inputs"]["template"]["maxInstanceRequestConcurrency"] == 4
    grants = by_type(result.resources, "gcp:cloudrunv2/serviceIamMember:ServiceIamMember")
    # The invokers, plus the Monitoring service agent of prod's authenticated uptime check.
    members = {g["inputs"]["member"] for g in grants if not g["name"].endswith("uptime-invoker")}
    assert members == {"user:alice@example.com"}


@pytest.mark.slow
def test_prebuilt_image_skips_repository_and_build():
    reference = "us-docker.pkg.dev/other/images/qa@sha256:" + "b" * 64
    result = rendered("dev", {"image": reference})
    types = {r["type"] for r in result.resources}
    assert "gcp:artifactregistry/repository:Repository" not in types
    assert "docker:index/image:Image" not in types
    [service] = by_type(result.resources, "gcp:cloudrunv2/service:Service")
    assert service["inputs"]["template"]["containers"][0]["image"] == reference
    apis = {r["inputs"]["service"] for r in by_type(result.resources, "gcp:projects/service:Service")}
    assert "artifactregistry.googleapis.com" not in apis


@pytest.mark.slow
def test_cloudbuild_builder_enables_cloud_build_and_needs_no_docker():
    result = rendered("dev", {"builder": "cloudbuild"})
    apis = {r["inputs"]["service"] for r in by_type(result.resources, "gcp:projects/service:Service")}
    assert "cloudbuild.googleapis.com" in apis
    assert by_type(result.resources, "command:local:Command")
    assert not by_type(result.resources, "docker:index/image:Image")


@pytest.mark.slow
@pytest.mark.parametrize("fmt", rendering.FORMATS)
def test_render_is_deterministic_byte_for_byte(fmt):
    first, second = cli("render", "prod", "--format", fmt), cli("render", "prod", "--format", fmt)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert len(first.stdout) > 500


@pytest.mark.slow
@pytest.mark.parametrize("fmt", rendering.FORMATS)
def test_secrets_never_appear_in_any_format(fmt):
    for stack in ("dev", "prod"):
        out = rendering.format_rendering(rendered(stack), fmt)
        assert OFFLINE_ACCESS_TOKEN not in out
    assert rendering.SECRET in rendering.format_rendering(rendered("dev"), fmt)


def test_encrypted_stack_values_are_masked(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "Pulumi.enc.yaml").write_text(
        "config:\n  serverless-qa:modelId:\n    secure: v1:AAAAsecretcipher\n  gcp:project: p1\n"
    )
    config = stack_files.resolve("enc", root=tmp_path)
    assert config.values["serverless-qa:modelId"] == rendering.SECRET
    assert config.secret_keys == ("serverless-qa:modelId",)
    assert config.values["gcp:project"] == "p1"
    assert "AAAAsecretcipher" not in json.dumps(config.values)


@pytest.mark.slow
def test_invalid_settings_fail_in_one_line_on_stderr():
    result = cli("render", "dev", "--set", "cpu=3")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        'error: cpu: "3" is not valid — 0.08…1 in steps of 0.001, or one of 1, 2, 4, 6, 8'
    ]


@pytest.mark.slow
def test_concurrency_the_service_refuses_fails_the_render_in_one_line():
    """Cloud Run would take 300, the service's gunicorn threads would not: the revision would
    never become ready, so the render refuses it."""
    result = cli("render", "dev", "--set", "concurrency=300")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.strip().splitlines() == [
        "error: concurrency: 300 is not valid — a whole number 1…256 "
        "(the service runs at most 256 requests at once)"
    ]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["render", "staging"], "error: stack 'staging': no Pulumi.staging.yaml; stacks here: "),
        (["render", "dev", "--set", "cpus=2"], "error: --set cpus: unknown key — did you mean cpu?"),
        (["render", "dev", "--set", "cpu"], "error: --set 'cpu': expected key=value"),
    ],
)
def test_bad_stack_or_override_fails_clearly(args, message):
    result = cli(*args)
    assert result.returncode == 2
    assert result.stderr.startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_settings_are_validated_before_any_resource_is_declared():
    with pytest.raises(SettingsError):
        rendering.render("dev", {"memory": "64Gi"})


@pytest.mark.slow
def test_yaml_without_kubernetes_objects_lists_the_resources():
    result = rendered("dev")
    assert yaml.safe_load(rendering.to_yaml(result)) == json.loads(rendering.to_json(result))


@pytest.mark.slow
def test_markdown_is_a_review_table():
    out = rendering.to_markdown(rendered("prod"))
    assert out.startswith("## Stack `prod`")
    assert "| `minInstances` | 1 |" in out
    assert "| `qa-service` | `gcp:cloudrunv2/service:Service` | qa |" in out
    assert "| `template.containers[0].resources.limits.cpu` | 2 |" in out


def test_kubernetes_manifest_puts_api_version_and_kind_first():
    manifest = rendering.kubernetes_manifest(
        "kubernetes:core/v1:Namespace", {"metadata": {"name": "x"}, "kind": "Namespace", "apiVersion": "v1"}
    )
    assert list(manifest) == ["apiVersion", "kind", "metadata"]
    assert rendering.kubernetes_manifest("gcp:cloudrunv2/service:Service", {"kind": "x"}) is None


def test_flatten_names_nested_fields():
    assert rendering.flatten({"a": {"b": [{"c": 1}, {"c": 2}], "d": [1, 2]}, "e": {}}) == {
        "a.b[0].c": 1,
        "a.b[1].c": 2,
        "a.d": [1, 2],
        "e": {},
    }


@pytest.mark.slow
def test_markdown_ends_with_the_stacks_cost_at_the_reference_rate():
    base = rendering.to_markdown(rendered("prod"))
    bigger = rendering.to_markdown(rendered("prod", {"cpu": "4", "memory": "8Gi"}))
    assert "### Monthly cost estimate: stack prod" in base
    assert "Instance 2 vCPU, 3 GiB; concurrency 1; min 1 / max 10 instances" in base
    assert "Instance 4 vCPU, 8 GiB" in bigger  # overrides reach the estimate too
    shown = "`.venv/bin/python -m bench cost prod --rps R`."
    assert base.rstrip().endswith(f"Other rates: {shown}")
    # The command it shows runs as written from the repository root (R: any rate).
    argv = shown.removesuffix(".").strip("`").replace(" R", " 3").split()
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "stack prod" in done.stdout


GPU_STACK = {
    "gpu": "nvidia-l4",
    "runtime": "torch",
    "cpu": "4",
    "memory": "16Gi",
    "cpuAlwaysAllocated": "true",
}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("overrides", "torch_index"),
    [({}, spec.TORCH_INDEX_CPU), (GPU_STACK, spec.TORCH_INDEX_CUDA)],
    ids=["cpu", "gpu"],
)
def test_gpu_stack_builds_a_cuda_torch_image(overrides, torch_index):
    [image] = by_type(rendered("dev", overrides).resources, "docker:index/image:Image")
    assert image["inputs"]["build"]["args"]["TORCH_INDEX"] == torch_index


def test_every_build_arg_reaches_both_builders():
    args = {
        **plan.image_build_args(make_settings()),
        **plan.image_build_args(make_settings(precision="int8")),
    }
    assert "INT8_ACCURACY_MARGIN" in args  # the int8-only one is checked too
    dockerfile = (ROOT / "service" / "Dockerfile").read_text()
    cloudbuild = (ROOT / "infra" / "cloudbuild.yaml").read_text()
    for key in args:
        assert f"\nARG {key}" in dockerfile, key
        assert f"--build-arg={key}=${{_{key}}}" in cloudbuild, key
    # the Dockerfile's own default is the CPU index infra passes for CPU stacks
    assert f"ARG TORCH_INDEX={spec.TORCH_INDEX_CPU}\n" in dockerfile


def test_values_only_a_deployment_knows_are_marked_as_stand_ins():
    """Digests of tags and builds, and reserved addresses, are made up offline: they carry the
    stand-in marks, and the review formats list them, so nobody applies a made-up digest."""
    result = rendered("gke")
    values = rendering.stand_ins(result)
    digests = [v for v in values if v.startswith("sha256:")]
    addresses = [v for v in values if not v.startswith("sha256:")]
    assert digests and all(d.startswith("sha256:0ff11e") for d in digests)
    assert addresses and all(a.startswith(("203.0.113.", "198.51.100.")) for a in addresses)
    text = rendering.to_yaml(result)
    manifests = text.split("\napiVersion:", 1)[0]
    assert "# STAND-INS:" in manifests and all(f"#   {v}" in manifests for v in values)
    assert any(f"{a}.sslip.io" in json.dumps(result.outputs) for a in addresses)  # the URL says so too
    markdown = rendering.to_markdown(rendered("dev"))
    assert "> STAND-INS:" in markdown.split("| setting |", 1)[0]


def test_a_digest_the_user_gave_is_not_a_stand_in():
    given = "us-central1-docker.pkg.dev/p/r/qa@sha256:" + "0" * 64
    result = rendered("dev", {"image": given})
    assert rendering.stand_ins(result) == []
    assert "STAND-INS" not in rendering.to_yaml(result) and "STAND-INS" not in rendering.to_markdown(result)


@pytest.mark.slow  # a render in a process
def test_a_render_piped_into_a_reader_that_stops_early_ends_quietly():
    """`python -m infra render gke --format yaml | head`: the reader has gone before the write."""
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-m", "infra", "render", "dev", "--format", "yaml"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    process.stdout.close()
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0 and "Traceback" not in err, err
