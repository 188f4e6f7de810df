"""infra/plan.py: the one map from settings to component Args (no Pulumi engine needed)."""

from __future__ import annotations

import pytest
from infra_helpers import make_settings

from infra import plan

DIGEST = "europe-west1-docker.pkg.dev/proj/repo/qa@sha256:" + "0" * 64


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, {"run", "iam", "artifactregistry"}),
        ({"builder": "cloudbuild"}, {"run", "iam", "artifactregistry", "cloudbuild"}),
        ({"image": DIGEST}, {"run", "iam"}),
        ({"platform": "knative"}, {"container", "compute", "iam", "artifactregistry"}),
    ],
)
def test_apis_follow_platform_and_builder(overrides, expected):
    apis = plan.project_services_args(make_settings(**overrides)).apis
    assert {api.removesuffix(".googleapis.com") for api in apis} == expected


@pytest.mark.parametrize(("public", "access"), [("true", "public"), ("false", "private")])
def test_access_label_is_the_same_on_both_platforms(public, access):
    run_settings = make_settings(public=public)
    knative_settings = make_settings(public=public, platform="knative")
    spec = plan.model_service_spec(run_settings, DIGEST)
    run = plan.cloud_run_args(run_settings, spec, "sa@proj.iam.gserviceaccount.com")
    knative = plan.knative_service_args(
        knative_settings,
        plan.model_service_spec(knative_settings, DIGEST),
        provider=None,
        identity_email="sa@proj.iam.gserviceaccount.com",
        identity_name="projects/proj/serviceAccounts/sa@proj.iam.gserviceaccount.com",
        workload_pool="proj.svc.id.goog",
    )
    assert run.labels["access"] == knative.labels["access"] == access
    assert run.labels == knative.labels


def test_public_service_is_invoked_by_all_users_and_the_listed_members():
    members = '["user:a@example.com"]'
    assert plan.cloud_run_args(
        make_settings(public="true", invokers=members), plan.model_service_spec(make_settings(), DIGEST), "sa"
    ).invokers == ["allUsers", "user:a@example.com"]
    assert plan.invokers(make_settings(public="false", invokers=members)) == ["user:a@example.com"]


def test_derived_names_fit_gcp_limits():
    long_name = "q" + "a-" * 24  # 49 characters, ends in '-' once truncated
    settings = make_settings(serviceName=long_name.rstrip("-"))
    account_id = plan.identity_args(settings).account_id
    assert len(account_id) <= 30 and not account_id.startswith("-") and "--" not in account_id
    cluster = plan.cluster_args(make_settings(serviceName=long_name.rstrip("-"), platform="knative"))
    assert len(cluster.cluster_name) <= 40 and "--" not in cluster.cluster_name


def test_gpu_pool_only_with_a_gpu():
    assert plan.cluster_args(make_settings(platform="knative", gkeGpuMaxNodes="2")).gpu_max_nodes == 0
    gpu = make_settings(platform="knative", gpu="nvidia-l4", cpu="4", memory="16Gi", gkeGpuMaxNodes="3")
    assert plan.cluster_args(gpu).gpu_max_nodes == 3


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"precision": "int8"}, "1"),  # Pulumi.yaml's default
        ({"precision": "int8", "int8AccuracyMargin": "0.25"}, "0.25"),
        ({"precision": "int8", "runtime": "onnx", "int8AccuracyMargin": "0"}, "0"),
        ({"precision": "fp32", "int8AccuracyMargin": "0.25"}, None),  # not part of an fp32 image
        ({}, None),
    ],
)
def test_the_int8_accuracy_margin_reaches_int8_image_builds_only(overrides, expected):
    assert plan.image_build_args(make_settings(**overrides)).get("INT8_ACCURACY_MARGIN") == expected


def test_image_args_carry_the_model_pin_and_the_torch_index():
    args = plan.image_args(make_settings(precision="int8"), "europe-west1-docker.pkg.dev/proj/qa-images")
    assert args.build_args["PRECISION"] == "int8" and args.build_args["RUNTIME"] == "openvino"
    assert args.build_args["TORCH_INDEX"].endswith("/cpu")
    assert (args.root / args.dockerfile).is_file()
