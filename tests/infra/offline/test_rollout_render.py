"""Every rollout phase through the real program, offline, with its exact traffic block, on Cloud Run
and Knative; and the phase's outputs the rollout command reads."""

from __future__ import annotations

import json

import pytest
import yaml
from infra_helpers import by_type, cli, rendered

from infra.rollout.revisions import is_revision_of

pytestmark = pytest.mark.slow  # whole renders, and `python -m infra render` processes

CLOUD_RUN = "gcp:cloudrunv2/service:Service"
KNATIVE = "kubernetes:serving.knative.dev/v1:Service"
REVISION = "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION"
GKE_GATED = {"rollout": "gated"}


def cloud_run(overrides: dict[str, str], stack: str = "prod") -> tuple[dict, dict]:
    result = rendered(stack, overrides)
    (service,) = by_type(result.resources, CLOUD_RUN)
    return service["inputs"], result.outputs


def knative(overrides: dict[str, str]) -> tuple[dict, dict]:
    result = rendered("gke", {**GKE_GATED, **overrides})
    (service,) = by_type(result.resources, KNATIVE)
    return service["inputs"], result.outputs


def test_prod_is_gated_and_its_first_revision_takes_everything():
    inputs, outputs = cloud_run({})
    new = inputs["template"]["revision"]
    assert is_revision_of("qa", new) and len(new) == len("qa-r") + 12
    assert inputs["traffics"] == [{"type": REVISION, "revision": new, "percent": 100}]
    assert outputs["newRevision"] == outputs["servingRevision"] == new
    assert (outputs["candidateRevision"], outputs["candidateUrl"], outputs["candidatePercent"]) == ("", "", 0)
    assert outputs["modelRevision"] == rendered("prod").config["serverless-qa:modelRevision"]


def test_dev_stays_direct_but_still_names_its_revision():
    inputs, outputs = cloud_run({}, stack="dev")
    assert inputs["traffics"] == [{"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", "percent": 100}]
    assert is_revision_of("qa-dev", inputs["template"]["revision"])
    assert outputs["servingRevision"] == inputs["template"]["revision"]


def test_cloud_run_candidate_phase_through_the_cli_contract():
    result = cli("render", "prod", "--format", "json", "--set", "servingRevision=qa-rOLD")
    assert result.returncode == 0, result.stderr
    (service,) = by_type(json.loads(result.stdout), CLOUD_RUN)
    new = service["inputs"]["template"]["revision"]
    assert service["inputs"]["traffics"] == [
        {"type": REVISION, "revision": "qa-rOLD", "percent": 100},
        {"type": REVISION, "revision": new, "percent": 0, "tag": "candidate"},
    ]


@pytest.mark.parametrize("percent", [0, 10, 50])
def test_cloud_run_candidate_and_canary_phases(percent):
    inputs, outputs = cloud_run({"servingRevision": "qa-rOLD", "candidatePercent": str(percent)})
    new = inputs["template"]["revision"]
    assert inputs["traffics"] == [
        {"type": REVISION, "revision": "qa-rOLD", "percent": 100 - percent},
        {"type": REVISION, "revision": new, "percent": percent, "tag": "candidate"},
    ]
    assert (outputs["servingRevision"], outputs["candidateRevision"]) == ("qa-rOLD", new)
    assert outputs["candidatePercent"] == percent
    # The platform reports the tag's own URL: candidate---HOST of the service URL.
    assert outputs["candidateUrl"] == outputs["url"].replace("https://", "https://candidate---")


def test_cloud_run_promoted_phase_keeps_previous_tagged():
    new = cloud_run({})[0]["template"]["revision"]
    inputs, outputs = cloud_run({"servingRevision": new, "previousRevision": "qa-rOLD"})
    assert inputs["traffics"] == [
        {"type": REVISION, "revision": new, "percent": 100},
        {"type": REVISION, "revision": "qa-rOLD", "percent": 0, "tag": "previous"},
    ]
    assert (outputs["servingRevision"], outputs["previousRevision"], outputs["candidateUrl"]) == (
        new,
        "qa-rOLD",
        "",
    )


def test_the_revision_name_follows_content_only():
    base = cloud_run({})[0]["template"]["revision"]
    assert (
        cloud_run({"servingRevision": "qa-rOLD"})[0]["template"]["revision"] == base
    )  # the phase is not content
    assert cloud_run({"memory": "8Gi"})[0]["template"]["revision"] != base
    other = "europe-west1-docker.pkg.dev/p/r/qa@sha256:" + "c" * 64
    assert cloud_run({"image": other})[0]["template"]["revision"] != base


@pytest.mark.parametrize("percent", [0, 10])
def test_knative_candidate_phase(percent):
    inputs, outputs = knative({"servingRevision": "qa-gke-rOLD", "candidatePercent": str(percent)})
    new = inputs["spec"]["template"]["metadata"]["name"]
    assert is_revision_of("qa-gke", new)
    assert inputs["spec"]["traffic"] == [
        {"revisionName": "qa-gke-rOLD", "latestRevision": False, "percent": 100 - percent},
        {"revisionName": new, "latestRevision": False, "percent": percent, "tag": "candidate"},
    ]
    # Knative's tag host: candidate-SERVICE.NAMESPACE.DOMAIN.
    assert outputs["candidateUrl"] == outputs["url"].replace("http://qa-gke.", "http://candidate-qa-gke.")
    assert outputs["candidateUrl"].startswith("http://candidate-qa-gke.qa.")


def test_knative_serving_and_promoted_phases():
    inputs, outputs = knative({})
    new = inputs["spec"]["template"]["metadata"]["name"]
    assert inputs["spec"]["traffic"] == [{"revisionName": new, "latestRevision": False, "percent": 100}]
    inputs, outputs = knative({"servingRevision": new, "previousRevision": "qa-gke-rOLD"})
    assert inputs["spec"]["traffic"] == [
        {"revisionName": new, "latestRevision": False, "percent": 100},
        {"revisionName": "qa-gke-rOLD", "latestRevision": False, "percent": 0, "tag": "previous"},
    ]
    assert outputs["previousRevision"] == "qa-gke-rOLD"


def test_knative_direct_is_latest_revision():
    result = rendered("gke")
    (service,) = by_type(result.resources, KNATIVE)
    assert service["inputs"]["spec"]["traffic"] == [{"latestRevision": True, "percent": 100}]


def test_knative_yaml_render_carries_the_phase_as_kubectl_takes_it():
    result = cli(
        "render", "gke", "--format", "yaml", "--set", "rollout=gated", "--set", "servingRevision=qa-gke-rOLD"
    )
    assert result.returncode == 0, result.stderr
    (ksvc,) = [
        d
        for d in yaml.safe_load_all(result.stdout)
        if d and d.get("kind") == "Service" and "traffic" in d.get("spec", {})
    ]
    assert ksvc["spec"]["traffic"][0] == {
        "revisionName": "qa-gke-rOLD",
        "latestRevision": False,
        "percent": 100,
    }
    assert ksvc["spec"]["traffic"][1]["tag"] == "candidate"
    assert ksvc["spec"]["template"]["metadata"]["name"] == ksvc["spec"]["traffic"][1]["revisionName"]


@pytest.mark.parametrize(
    ("sets", "key"),
    [
        (["rollout=canary"], "rollout"),
        (["servingRevision=other-rOLD"], "servingRevision"),
        (["candidatePercent=100", "servingRevision=qa-rOLD"], "candidatePercent"),
        (["candidatePercent=10"], "candidatePercent"),
    ],
)
def test_bad_rollout_settings_fail_in_one_line(sets, key):
    result = cli("render", "prod", *[arg for s in sets for arg in ("--set", s)])
    assert result.returncode == 2 and result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {key}: ")


def test_direct_stacks_refuse_phase_settings():
    result = cli("render", "dev", "--set", "servingRevision=qa-dev-rOLD")
    assert result.returncode == 2
    assert "servingRevision" in result.stderr and "rollout: gated" in result.stderr
