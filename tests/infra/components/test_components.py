"""Each component on its own, run against the shared mocks, asserted on what it declares."""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pytest
from infra_helpers import declare, make_settings

from infra.components import type_token
from infra.components.cloud_run import CloudRunModelService, CloudRunModelServiceArgs, invoker_resource_name
from infra.components.identity import IdentityError, RuntimeIdentity, RuntimeIdentityArgs
from infra.components.image import ModelImage, ModelImageArgs, source_fingerprint, token_registry
from infra.components.knative import KnativeModelService
from infra.components.project_services import ProjectServices, ProjectServicesArgs
from infra.components.registry import ArtifactRepository, ArtifactRepositoryArgs
from infra.components.rollout import SERVICE_OUTPUTS
from infra.offline.stand_ins import OFFLINE_ACCESS_TOKEN
from infra.plan import model_service_spec

ROOT = Path(__file__).resolve().parents[3]
DIGEST_REF = "europe-west1-docker.pkg.dev/proj/repo/qa@sha256:" + "a" * 64


def test_project_services_stay_enabled_on_destroy():
    declared = declare(
        lambda: ProjectServices(
            "apis",
            ProjectServicesArgs(
                project="proj", apis=["run.googleapis.com", "iam.googleapis.com", "run.googleapis.com"]
            ),
        )
    )
    component = declared["apis"]
    assert component.type == type_token("ProjectServices") == "serverless-qa:index:ProjectServices"
    apis = declared.of_type("gcp:projects/service:Service")
    assert sorted(r.name for r in apis) == ["apis-iam", "apis-run"]
    for api in apis:
        assert api.parent == "apis"
        assert api.inputs["disableOnDestroy"] is False
        assert api.inputs["project"] == "proj"


def test_repository_keeps_newest_versions_and_deletes_old_ones():
    declared = declare(
        lambda: ArtifactRepository(
            "images",
            ArtifactRepositoryArgs(
                project="proj", location="europe-west1", repository_id="qa-images", keep_versions=7
            ),
        )
    )
    repo = declared["images-repository"]
    assert repo.parent == "images"
    assert repo.inputs["format"] == "DOCKER"
    assert repo.inputs["cleanupPolicyDryRun"] is False
    keep, delete = repo.inputs["cleanupPolicies"]
    assert (keep["action"], keep["mostRecentVersions"]["keepCount"]) == ("KEEP", 7)
    assert (delete["action"], delete["condition"]["tagState"]) == ("DELETE", "ANY")


def test_runtime_identity_is_dedicated_and_gets_only_the_roles_asked_for():
    declared = declare(
        lambda: RuntimeIdentity(
            "runtime", RuntimeIdentityArgs(project="proj", account_id="qa-runtime", display_name="qa")
        )
    )
    account = declared["runtime-account"]
    assert account.inputs["accountId"] == "qa-runtime"
    assert not declared.of_type("gcp:projects/iAMMember:IAMMember")

    declared = declare(
        lambda: RuntimeIdentity(
            "runtime",
            RuntimeIdentityArgs(
                project="proj", account_id="qa-runtime", display_name="qa", roles=["roles/cloudtrace.agent"]
            ),
        )
    )
    [grant] = declared.of_type("gcp:projects/iAMMember:IAMMember")
    assert grant.inputs["role"] == "roles/cloudtrace.agent"
    assert grant.inputs["member"] == "serviceAccount:qa-runtime@proj.iam.gserviceaccount.com"


@pytest.mark.parametrize("role", ["roles/owner", "roles/editor", "roles/viewer"])
def test_runtime_identity_refuses_basic_roles(role):
    with pytest.raises(IdentityError, match="basic role"):
        declare(
            lambda: RuntimeIdentity(
                "runtime",
                RuntimeIdentityArgs(project="proj", account_id="qa-runtime", display_name="qa", roles=[role]),
            )
        )


def _image_args(**overrides) -> ModelImageArgs:
    args = {
        "project": "proj",
        "region": "europe-west1",
        "repository_url": "europe-west1-docker.pkg.dev/proj/qa-images",
        "image_name": "qa",
        "root": ROOT,
        "context": "service",
        "dockerfile": "service/Dockerfile",
        "build_args": {"MODEL_ID": "m", "MODEL_REVISION": "r"},
    }
    return ModelImageArgs(**{**args, **overrides})


def _export_ref(args: ModelImageArgs):
    def program():
        pulumi.export("ref", ModelImage("model-image", args).ref)

    return program


def test_docker_build_is_amd64_pushes_with_a_secret_token_and_deploys_the_digest():
    declared = declare(_export_ref(_image_args()))
    [build] = declared.of_type("docker:index/image:Image")
    assert build.parent == "model-image"
    assert build.inputs["build"]["platform"] == "linux/amd64"
    assert build.inputs["build"]["args"] == {"MODEL_ID": "m", "MODEL_REVISION": "r"}
    assert build.inputs["build"]["context"] == "service"
    tag = source_fingerprint(ROOT / "service", {"MODEL_ID": "m", "MODEL_REVISION": "r"})
    assert build.inputs["imageName"] == f"europe-west1-docker.pkg.dev/proj/qa-images/qa:{tag}"
    assert pulumi.runtime.rpc.is_rpc_secret(build.inputs["registry"])
    registry = pulumi.runtime.rpc.unwrap_rpc_secret(build.inputs["registry"])
    assert registry["username"] == "oauth2accesstoken"
    assert registry["password"] == OFFLINE_ACCESS_TOKEN
    assert registry["server"] == "europe-west1-docker.pkg.dev"
    assert declared.outputs["ref"].startswith("europe-west1-docker.pkg.dev/proj/qa-images/qa@sha256:")


def test_cloud_build_is_keyed_on_the_source_hash():
    declared = declare(_export_ref(_image_args(builder="cloudbuild")))
    [build] = declared.of_type("command:local:Command")
    tag = source_fingerprint(ROOT / "service", {"MODEL_ID": "m", "MODEL_REVISION": "r"})
    assert build.inputs["triggers"] == [tag]
    assert "gcloud builds submit service" in build.inputs["create"]
    assert "--config=infra/cloudbuild.yaml" in build.inputs["create"]
    assert "_MODEL_ID=m,_MODEL_REVISION=r" in build.inputs["create"]
    assert not declared.of_type("docker:index/image:Image")
    assert declared.outputs["ref"].startswith("europe-west1-docker.pkg.dev/proj/qa-images/qa@sha256:")


def test_source_fingerprint_follows_sources_and_build_args(tmp_path):
    (tmp_path / "app.py").write_text("print(1)")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "app.pyc").write_bytes(b"junk")
    first = source_fingerprint(tmp_path, {"MODEL_REVISION": "a"})
    (tmp_path / "__pycache__" / "app.pyc").write_bytes(b"other junk")
    assert source_fingerprint(tmp_path, {"MODEL_REVISION": "a"}) == first
    assert source_fingerprint(tmp_path, {"MODEL_REVISION": "b"}) != first
    (tmp_path / "app.py").write_text("print(2)")
    assert source_fingerprint(tmp_path, {"MODEL_REVISION": "a"}) != first


def test_prebuilt_digest_is_deployed_as_is_without_building():
    declared = declare(_export_ref(_image_args(prebuilt=DIGEST_REF)))
    assert declared.outputs["ref"] == DIGEST_REF
    assert declared.names() == {"model-image"}


def test_prebuilt_tag_is_resolved_to_its_digest():
    tagged = "europe-west1-docker.pkg.dev/proj/repo/qa:v3"
    declared = declare(_export_ref(_image_args(prebuilt=tagged)))
    assert declared.outputs["ref"].startswith("europe-west1-docker.pkg.dev/proj/repo/qa@sha256:")
    [provider] = declared.of_type("pulumi:providers:docker")
    assert not declared.of_type("docker:index/image:Image")
    assert provider.parent == "model-image"


def _cloud_run(settings, invokers=(), name="qa"):
    def program():
        service = CloudRunModelService(
            name,
            CloudRunModelServiceArgs(
                spec=model_service_spec(settings, DIGEST_REF),
                project="proj",
                region="europe-west1",
                service_account="qa-runtime@proj.iam.gserviceaccount.com",
                ingress="INGRESS_TRAFFIC_ALL",
                invokers=list(invokers),
                deletion_protection=settings.deletion_protection,
            ),
        )
        pulumi.export("url", service.url)

    return declare(program)


def test_cloud_run_service_carries_the_spec():
    declared = _cloud_run(
        make_settings(concurrency="2", minInstances="1", maxInstances="5", timeoutSeconds="120")
    )
    service = declared["qa-service"]
    assert service.type == "gcp:cloudrunv2/service:Service" and service.parent == "qa"
    template = service.inputs["template"]
    [container] = template["containers"]
    assert container["image"] == DIGEST_REF
    assert container["resources"]["limits"] == {"cpu": "2", "memory": "3Gi"}
    assert container["resources"]["cpuIdle"] is True
    assert container["resources"]["startupCpuBoost"] is True
    assert container["ports"]["containerPort"] == 8080
    assert container["startupProbe"]["httpGet"]["path"] == "/ready"
    assert container["startupProbe"]["periodSeconds"] * container["startupProbe"]["failureThreshold"] <= 240
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert {e["name"]: e["value"] for e in container["envs"]}["CONCURRENCY"] == "2"
    assert template["maxInstanceRequestConcurrency"] == 2
    assert template["scaling"] == {"minInstanceCount": 1, "maxInstanceCount": 5}
    assert template["timeout"] == "120s"
    assert template["executionEnvironment"] == "EXECUTION_ENVIRONMENT_GEN2"
    assert template["serviceAccount"] == "qa-runtime@proj.iam.gserviceaccount.com"
    assert "nodeSelector" not in template
    assert service.inputs["invokerIamDisabled"] is False
    assert service.inputs["deletionProtection"] is True
    assert declared.outputs["url"].startswith("https://qa-") and declared.outputs["url"].endswith(".run.app")


@pytest.mark.parametrize("component", [CloudRunModelService, KnativeModelService])
def test_both_service_components_declare_the_outputs_the_program_exports(component):
    declared = set(component.__annotations__)
    assert set(SERVICE_OUTPUTS) <= declared, set(SERVICE_OUTPUTS) - declared


def test_cloud_run_cpu_always_allocated_turns_cpu_idle_off():
    declared = _cloud_run(make_settings(cpuAlwaysAllocated="true"))
    assert declared["qa-service"].inputs["template"]["containers"][0]["resources"]["cpuIdle"] is False


def test_cloud_run_gpu_sets_node_selector_and_limit():
    declared = _cloud_run(make_settings(gpu="nvidia-l4", cpu="4", memory="16Gi", cpuAlwaysAllocated="true"))
    template = declared["qa-service"].inputs["template"]
    assert template["nodeSelector"] == {"accelerator": "nvidia-l4"}
    assert template["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert template["gpuZonalRedundancyDisabled"] is True


def test_cloud_run_invokers_get_run_invoker_on_the_service_only():
    members = ["allUsers", "user:a@example.com"]
    declared = _cloud_run(make_settings(), invokers=members)
    grants = declared.of_type("gcp:cloudrunv2/serviceIamMember:ServiceIamMember")
    assert sorted(g.inputs["member"] for g in grants) == sorted(members)
    for grant in grants:
        assert grant.inputs["role"] == "roles/run.invoker"
        assert (grant.inputs["name"], grant.inputs["location"], grant.inputs["project"]) == (
            "qa",
            "europe-west1",
            "proj",
        )
        assert grant.parent == "qa"
        assert grant.name == invoker_resource_name("qa", grant.inputs["member"])
    # Only: no other resource grants anything (no project- or account-wide run.invoker, no policy
    # or binding that would replace who may call it).
    iam = [r for r in declared.registrations if "iam" in r.type.lower() or "role" in r.inputs]
    assert sorted(r.name for r in iam) == sorted(g.name for g in grants)
    assert _cloud_run(make_settings()).of_type("gcp:cloudrunv2/serviceIamMember:ServiceIamMember") == []


def test_invoker_names_are_stable_and_distinct():
    assert invoker_resource_name("qa", "user:a.b@x.com") == invoker_resource_name("qa", "user:a.b@x.com")
    assert invoker_resource_name("qa", "user:a.b@x.com") != invoker_resource_name("qa", "user:a-b@x.com")


def _registry_auth(declared) -> list[dict]:
    """Registry credentials of every docker provider (provider inputs travel as JSON text, here
    inside the SDK's secret wrapper)."""
    auths = []
    for provider in declared.of_type("pulumi:providers:docker"):
        value = provider.inputs.get("registryAuth") or []
        value = value.get("value", value) if isinstance(value, dict) else value
        auths += json.loads(value) if isinstance(value, str) else value
    return auths


def test_the_google_token_only_goes_to_the_artifact_registry_host():
    declared = declare(_export_ref(_image_args(prebuilt="europe-west1-docker.pkg.dev/proj/repo/qa:v3")))
    [auth] = _registry_auth(declared)
    assert auth["address"] == "europe-west1-docker.pkg.dev" and auth["username"] == "oauth2accesstoken"


@pytest.mark.parametrize(
    "reference",
    [
        "docker.io/library/nginx:latest",
        "ghcr.io/someone/qa:v1",
        "europe-west1-docker.pkg.dev.attacker.example/proj/repo/qa:v3",  # looks like it, is not
    ],
)
def test_no_other_registry_ever_gets_the_google_token(reference):
    """Even with the settings check bypassed: a foreign tag is resolved without credentials."""
    declared = declare(_export_ref(_image_args(prebuilt=reference)))
    assert _registry_auth(declared) == []
    assert "offline-access-token" not in repr([r.inputs for r in declared.registrations])
    assert declared.outputs["ref"].startswith(reference.rsplit(":", 1)[0] + "@sha256:")


def test_a_build_signs_in_only_to_artifact_registry():
    assert token_registry("europe-west1-docker.pkg.dev/proj/qa-images") == "europe-west1-docker.pkg.dev"
    assert token_registry("us-docker.pkg.dev/proj/qa-images/qa:v1") == "us-docker.pkg.dev"
    for foreign in ("registry.example.com/proj/qa-images", "docker-pkg.dev/x/y", "pkg.dev/x/y"):
        with pytest.raises(ValueError, match="is not Artifact Registry: no Google token for it"):
            token_registry(foreign)
