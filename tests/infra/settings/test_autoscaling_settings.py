"""Autoscaling knobs: the `autoscaling` preset, Cloud Run's scaling mode and Knative's
per-revision annotations, rendered where they apply and refused in one line where they do not."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from infra_helpers import by_type, make_settings, rendered
from provider_schema import problems as schema_problems

from infra import scaling
from infra.settings import SettingsError, derived_values, stack_files
from infra.settings.autoscaling import KNATIVE_KNOBS, STEADY
from policy import tokens

SCHEMA_PATH = Path(__file__).resolve().parents[3] / "infra" / "schemas" / "knative-service.schema.json"
PREFIX = scaling.KNATIVE_AUTOSCALING_ANNOTATIONS
# A value inside Knative's bounds for every knob (activation-scale at most maxInstances).
VALID = {
    "knativeScaleDownDelaySeconds": ("600", "600s"),
    "knativeWindowSeconds": ("120", "120s"),
    "knativePanicWindowPercentage": ("20", "20"),
    "knativePanicThresholdPercentage": ("300", "300"),
    "knativeTargetUtilizationPercentage": ("80", "80"),
    "knativeActivationScale": ("2", "2"),
}


def refusal(**overrides: str) -> str:
    with pytest.raises(SettingsError) as caught:
        make_settings(**overrides)
    assert len(caught.value.problems) == 1, caught.value.problems
    return caught.value.problems[0]


def knative_annotations(overrides: dict[str, str]) -> dict[str, str]:
    (service,) = by_type(rendered("gke", overrides).resources, tokens.KNATIVE_SERVICE)
    return service["inputs"]["spec"]["template"]["metadata"]["annotations"]


def cloud_run_service(overrides: dict[str, str]) -> dict:
    (service,) = by_type(rendered("dev", overrides).resources, tokens.CLOUD_RUN_SERVICE)
    return service["inputs"]


def test_every_knob_has_a_valid_example():
    assert set(VALID) == set(KNATIVE_KNOBS)


def test_unset_knobs_render_nothing_and_keep_the_platforms_defaults():
    annotations = knative_annotations({})
    rendered_knobs = {name for name, _ in KNATIVE_KNOBS.values()}
    assert not rendered_knobs & {key.removeprefix(f"{PREFIX}/") for key in annotations}
    assert "scaling" not in cloud_run_service({})


def test_each_knob_renders_as_its_annotation_and_fits_the_knative_schema():
    overrides = {key: value for key, (value, _) in VALID.items()}
    annotations = knative_annotations(overrides)
    for key, (_, shown) in VALID.items():
        assert annotations[f"{PREFIX}/{KNATIVE_KNOBS[key][0]}"] == shown, key
    (service,) = by_type(rendered("gke", overrides).resources, tokens.KNATIVE_SERVICE)
    with open(SCHEMA_PATH, encoding="utf-8") as handle:
        jsonschema.Draft202012Validator(json.load(handle)).validate(service["inputs"])


def test_a_knob_joins_the_revision_name_only_when_set():
    def revision(overrides):
        (service,) = by_type(rendered("gke", overrides).resources, tokens.KNATIVE_SERVICE)
        return service["inputs"]["spec"]["template"]["metadata"]["name"]

    assert revision({"knativeWindowSeconds": "120"}) != revision({})
    assert revision({"knativeWindowSeconds": "120"}) != revision({"knativeWindowSeconds": "121"})


@pytest.mark.parametrize("key", sorted(KNATIVE_KNOBS))
def test_knative_bounds_are_knatives_own(key):
    low, high = KNATIVE_KNOBS[key][1]
    overrides = {"platform": "knative"}
    if key == "knativeActivationScale":  # its high bound is maxInstances (the next test)
        high = int(make_settings(platform="knative").service.max_instances)
    assert make_settings(**overrides, **{key: str(high)}).autoscaling.knative_annotations
    line = refusal(**overrides, **{key: str(high + 1)})
    assert line.startswith(f"{key}: {high + 1} is not valid") and f"…{high}" in line
    if low > 1:
        line = refusal(**overrides, **{key: str(low - 1)})
        assert line.startswith(f"{key}: {low - 1} is not valid") and f"{low}…" in line


@pytest.mark.parametrize("key", sorted(KNATIVE_KNOBS))
def test_knative_knobs_are_refused_on_cloud_run(key):
    line = refusal(**{key: VALID[key][0]})
    assert line.startswith(f"{key}: {VALID[key][0]} is not valid — 0 on cloudrun")


def test_activation_scale_stays_within_min_and_max_instances():
    line = refusal(platform="knative", maxInstances="3", knativeActivationScale="4")
    assert line.startswith("knativeActivationScale: 4 is not valid") and "…3" in line
    line = refusal(platform="knative", minInstances="3", maxInstances="3", knativeActivationScale="2")
    assert line.startswith("knativeActivationScale: 2 is not valid") and "3…3" in line


def test_manual_scaling_renders_service_level_scaling_in_the_provider_schema():
    inputs = cloud_run_service({"scalingMode": "manual", "manualInstances": "2"})
    assert inputs["scaling"] == {"scalingMode": "MANUAL", "manualInstanceCount": 2}
    assert schema_problems(tokens.CLOUD_RUN_SERVICE, inputs) == []


@pytest.mark.parametrize(
    ("overrides", "start"),
    [
        ({"scalingMode": "manual"}, "manualInstances: 0 is not valid — at least 1"),
        ({"manualInstances": "2"}, "manualInstances: 2 is not valid — 0 unless scalingMode is manual"),
        ({"scalingMode": "fixed"}, 'scalingMode: "fixed" is not valid — one of automatic, manual'),
        (
            {"platform": "knative", "scalingMode": "manual", "manualInstances": "2"},
            'scalingMode: "manual" is not valid — automatic on knative',
        ),
        ({"autoscaling": "calm"}, 'autoscaling: "calm" is not valid — one of default, steady'),
    ],
)
def test_scaling_mode_and_preset_refusals_are_one_line(overrides, start):
    assert refusal(**overrides).startswith(start)


@pytest.mark.parametrize("platform", sorted(STEADY))
def test_steady_fills_what_the_stack_left_unset_and_render_shows_it_derived(platform):
    stack = {"cloudrun": "dev", "knative": "gke"}[platform]
    rendering = rendered(stack, {"autoscaling": "steady"})
    for key, value in STEADY[platform].items():
        assert rendering.config[f"serverless-qa:{key}"] == f"{value} (unset: derived)"
    settings = make_settings(platform=platform, autoscaling="steady")
    if platform == "cloudrun":
        assert settings.service.min_instances == int(STEADY["cloudrun"]["minInstances"])
    else:
        shown = dict(settings.autoscaling.knative_annotations)
        assert shown == {"scale-down-delay": "900s", "window": "180s"}


def test_a_key_the_stack_sets_wins_over_the_preset():
    settings = make_settings(platform="knative", autoscaling="steady", knativeWindowSeconds="300")
    assert dict(settings.autoscaling.knative_annotations)["window"] == "300s"
    assert make_settings(autoscaling="steady", minInstances="2").service.min_instances == 2
    raw = {"platform": "knative", "autoscaling": "steady", "knativeWindowSeconds": "300"}
    assert "knativeWindowSeconds" not in derived_values(raw)  # set: nothing derived for it
    assert derived_values(raw)["knativeScaleDownDelaySeconds"] == "900"


def test_the_default_preset_changes_nothing():
    assert make_settings().service.min_instances == 0
    assert make_settings(platform="knative").autoscaling.knative_annotations == ()


def test_descriptions_and_docs_quote_the_bounds_and_preset_values_the_code_uses():
    schema = stack_files.config_schema()
    for key, (annotation, (low, high)) in KNATIVE_KNOBS.items():
        description = schema[key]["description"]
        assert f"autoscaling.knative.dev/{annotation}" in description, key
        if key != "knativeActivationScale":  # its high bound is maxInstances
            assert f"{low}-{high}" in description, key
    doc = (Path(__file__).resolve().parents[3] / "docs" / "cold-starts.md").read_text()
    for platform, values in STEADY.items():
        for key, value in values.items():
            assert f"`{key}: {value}`" in doc, (platform, key)
