"""`gpu: nvidia-l4` alone is a working stack: what a GPU needs is derived where the stack is silent.

Pulumi.yaml gives these keys an "unset" sentinel (the CLI applies schema defaults, so a real
default could not be told from a value the stack wrote); infra/settings/derive.py fills them in.
"""

from __future__ import annotations

import pytest
from infra_helpers import default_raw, rendered

from infra.settings import SettingsError, build_settings, stack_files
from infra.settings.derive import UNSET
from service import settings as service_settings

CLOUD_RUN = "gcp:cloudrunv2/service:Service"


def settings_of(**overrides: str):
    """Like infra_helpers.make_settings, without its runtime pin: the derivation is under test."""
    return build_settings(default_raw(**overrides), project="proj-test", region="us-central1", stack="t")


def test_the_schema_defaults_of_derived_keys_are_the_unset_sentinels():
    schema = stack_files.config_schema()
    assert {key: stack_files.to_config_string(schema[key]["default"]) for key in UNSET} == UNSET
    # Declared strings where a boolean has to be able to say "unset"; stack files still write
    # true/false (a YAML boolean reaches the program as its text).
    assert schema["cpuAlwaysAllocated"]["type"] == schema["batching"]["type"] == "string"


def test_gpu_alone_gives_what_the_l4_needs():
    service = settings_of(gpu="nvidia-l4").service
    model = settings_of(gpu="nvidia-l4").model
    assert (service.cpu.text, service.memory, service.cpu_always_allocated) == ("4", "16Gi", True)
    assert model.runtime == "torch"
    assert (service.batching, service.concurrency, service.max_batch_windows) == (True, 16, 32)
    assert service.gpu_zonal_redundancy is False


def test_without_a_gpu_the_cpu_defaults_stay():
    service, model = settings_of().service, settings_of().model
    assert (service.cpu.text, service.memory, service.cpu_always_allocated) == ("2", "3Gi", False)
    assert (model.runtime, service.batching, service.concurrency) == ("openvino", False, 1)
    assert service.max_batch_windows == 0  # the service keeps its own per-runtime default
    assert settings_of(batching="true").service.concurrency == 4  # batching needs requests in flight


def test_what_the_stack_sets_is_kept():
    service = settings_of(
        gpu="nvidia-l4", cpu="8", memory="32Gi", concurrency="8", batching="false", maxBatchWindows="64"
    ).service
    assert (service.cpu.text, service.memory, service.concurrency) == ("8", "32Gi", 8)
    assert (service.batching, service.max_batch_windows) == (False, 64)


@pytest.mark.parametrize(
    ("overrides", "line"),
    [
        ({"cpu": "2"}, 'cpu: "2" is not valid — at least 4 with gpu nvidia-l4'),
        ({"memory": "8Gi"}, 'memory: "8Gi" is not valid — at least 16Gi with gpu nvidia-l4'),
        ({"cpuAlwaysAllocated": "false"}, "cpuAlwaysAllocated: false is not valid — true with gpu nvidia-l4"),
        ({"runtime": "onnx"}, 'runtime: "onnx" is not valid — torch with gpu nvidia-l4'),
    ],
)
def test_a_set_value_that_conflicts_with_the_gpu_fails_in_one_line(overrides, line):
    with pytest.raises(SettingsError) as caught:
        settings_of(gpu="nvidia-l4", **overrides)
    [problem] = caught.value.problems  # cpu 2 also makes the derived 16Gi too big: not reported
    assert problem.startswith(line)


def test_a_gpu_in_a_region_without_cloud_run_gpus_fails_in_one_line():
    with pytest.raises(SettingsError) as caught:
        build_settings(default_raw(gpu="nvidia-l4"), project="proj-test", region="europe-north1", stack="t")
    [problem] = caught.value.problems  # infra/regions.py's check; nothing derived adds a line
    assert problem.startswith('gpu: "nvidia-l4" is not valid — empty in europe-north1')
    assert "us-central1" in problem


@pytest.mark.parametrize(
    ("overrides", "line"),
    [
        ({"batching": "sometimes"}, 'batching: "sometimes" is not valid — true or false'),
        ({"batchMaxWaitMs": "1001"}, "batchMaxWaitMs: 1001 is not valid — a whole number 0…1000"),
        ({"maxBatchWindows": "2000"}, "maxBatchWindows: 2000 is not valid — a whole number 0…1024"),
    ],
)
def test_bad_batching_settings_fail_in_one_line(overrides, line):
    with pytest.raises(SettingsError) as caught:
        settings_of(**overrides)
    [problem] = caught.value.problems
    assert problem.startswith(line)


def test_the_stack_and_the_service_default_to_the_same_batch_wait():
    default = stack_files.config_schema()["batchMaxWaitMs"]["default"]
    assert default == service_settings.DEFAULT_BATCH_MAX_WAIT_MS


def _cloud_run(overrides):
    [service] = [r for r in rendered("dev", overrides).resources if r["type"] == CLOUD_RUN]
    return service["inputs"]["template"]


@pytest.mark.slow  # whole renders
def test_a_gpu_stack_renders_as_specified():
    template = _cloud_run({"gpu": "nvidia-l4"})
    container = template["containers"][0]
    assert container["resources"]["limits"] == {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "1"}
    assert container["resources"]["cpuIdle"] is False  # instance-based billing
    assert template["maxInstanceRequestConcurrency"] == 16
    assert template["nodeSelector"] == {"accelerator": "nvidia-l4"}
    assert template["gpuZonalRedundancyDisabled"] is True
    env = {e["name"]: e["value"] for e in container["envs"]}
    assert {k: env[k] for k in ("CONCURRENCY", "NUM_THREADS", "BATCHING", "MAX_BATCH_WINDOWS")} == {
        "CONCURRENCY": "16",
        "NUM_THREADS": "4",
        "BATCHING": "1",
        "MAX_BATCH_WINDOWS": "32",
    }
    assert env["BATCH_MAX_WAIT_MS"] == "5"
    assert (
        _cloud_run({"gpu": "nvidia-l4", "gpuZonalRedundancy": "true"})["gpuZonalRedundancyDisabled"] is False
    )


@pytest.mark.slow  # whole renders
def test_a_cpu_stack_renders_no_batching_and_no_zonal_redundancy_field():
    template = _cloud_run({})
    names = {e["name"] for e in template["containers"][0]["envs"]}
    assert not names & {"BATCHING", "BATCH_MAX_WAIT_MS", "MAX_BATCH_WINDOWS"}
    assert template.get("gpuZonalRedundancyDisabled") is None
    env = {e["name"]: e["value"] for e in _cloud_run({"batching": "true"})["containers"][0]["envs"]}
    assert (env["BATCHING"], env["CONCURRENCY"]) == ("1", "4")


@pytest.mark.slow  # whole renders
def test_the_review_table_says_which_values_were_derived():
    from infra.offline.render import to_markdown

    table = to_markdown(rendered("dev", {"gpu": "nvidia-l4"}))
    assert "| `cpu` | 4 (unset: derived) |" in table
    assert "| `runtime` | torch (unset: derived) |" in table
    assert "| `gpu` | nvidia-l4 |" in table
