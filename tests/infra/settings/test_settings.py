"""Stack settings: schema in step with the code, seed defaults, and one clear line per bad value."""

from __future__ import annotations

import contextlib

import pytest
from infra_helpers import default_raw, make_settings

from infra import limits
from infra.settings import CONFIG_KEYS, INGRESS, SettingsError, build_settings, stack_files
from service.bake.accuracy import DEFAULT_MARGIN


def test_every_project_key_has_type_default_and_description():
    schema = stack_files.config_schema()
    for key, entry in schema.items():
        assert entry.get("type") in ("string", "integer", "boolean", "array"), key
        assert "default" in entry, key
        assert len(entry.get("description", "")) > 20, key


class _Recording(dict):
    """Raw config that records which keys the settings read."""

    def __init__(self, raw: dict[str, str]):
        super().__init__(raw)
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)


@pytest.mark.parametrize("overrides", [{}, {"platform": "knative", "gpu": "nvidia-l4", "runtime": "torch"}])
def test_the_settings_read_every_key_pulumi_yaml_declares_and_no_other(overrides):
    """CONFIG_KEYS is Pulumi.yaml's list: a key declared there and read by nothing would be a
    setting a user writes and the program ignores."""
    raw = _Recording(default_raw(**overrides))
    # A knative stack with a GPU needs a GPU pool (a SettingsError): every key is read all the same.
    with contextlib.suppress(SettingsError):
        build_settings(raw, project="proj-test", region="us-central1", stack="t")
    assert raw.read == set(CONFIG_KEYS) == set(stack_files.config_schema())


def test_default_runtime_is_openvino_and_auto_precision_follows_the_runtime():
    settings = make_settings()
    # openvino's `auto` is baked as such and decided on each instance (docs/openvino.md)
    assert (settings.model.runtime, settings.model.precision) == ("openvino", "auto")
    assert make_settings(precision="int8").model.precision == "int8"
    assert (
        make_settings(runtime="onnx").model.precision,
        make_settings(runtime="torch").model.precision,
    ) == (
        "fp32",
        "fp32",
    )
    assert make_settings(runtime="torch").model.runtime == "torch"
    for precision in ("fp32", "bf16", "int8"):  # every fixed precision service/manifest.py lists
        model = make_settings(runtime="openvino", precision=precision).model
        assert (model.runtime, model.precision) == ("openvino", precision)


def test_defaults_reproduce_the_seed_deployment():
    settings = make_settings()
    service = settings.service
    assert (service.concurrency, service.cpu.text, service.memory) == (1, "2", "3Gi")
    assert service.cpu.vcpu == 2 and service.memory_mib == 3 * 1024
    assert service.startup_cpu_boost is True and service.cpu_always_allocated is False
    assert settings.platform == "cloudrun"
    assert settings.deletion_protection is True  # safe unless a stack opts out
    assert settings.access.public is False and settings.access.invokers == ()


def test_invokers_parse_from_json_list():
    settings = make_settings(invokers='["user:a@example.com", "serviceAccount:x@p.iam.gserviceaccount.com"]')
    assert settings.access.invokers == ("user:a@example.com", "serviceAccount:x@p.iam.gserviceaccount.com")


@pytest.mark.parametrize(("text", "margin"), [("0", 0.0), ("0.25", 0.25), ("2", 2.0), ("100", 100.0)])
def test_int8_accuracy_margin_takes_f1_points_from_0_to_100(text, margin):
    assert make_settings(precision="int8", int8AccuracyMargin=text).model.int8_accuracy_margin == margin


def test_int8_accuracy_margin_defaults_to_the_bakes_own_default():
    """Pulumi.yaml's default and `python -m service.bake`'s are the same number."""
    assert make_settings().model.int8_accuracy_margin == DEFAULT_MARGIN


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"cpu": "3"}, 'cpu: "3" is not valid — 0.08…1 in steps of 0.001, or one of 1, 2, 4, 6, 8'),
        ({"cpu": "9"}, 'cpu: "9" is not valid'),
        ({"cpu": "0.05"}, 'cpu: "0.05" is not valid'),
        ({"cpu": "two"}, 'cpu: "two" is not valid'),
        ({"memory": "9Gi"}, 'memory: "9Gi" is not valid — with cpu 2 use 128Mi…8Gi'),
        ({"memory": "lots"}, 'memory: "lots" is not valid — a size like 512Mi, 3Gi or 4G'),
        ({"cpu": "4", "memory": "1Gi"}, 'memory: "1Gi" is not valid — with cpu 4 use 2Gi…16Gi'),
        ({"cpu": "8", "memory": "33Gi"}, 'memory: "33Gi" is not valid — with cpu 8 use 4Gi…32Gi'),
        ({"concurrency": "-1"}, "concurrency: -1 is not valid — a whole number 1…256"),
        # Cloud Run allows 1000, the service's own bound is lower: the tighter one applies.
        (
            {"concurrency": "300"},
            "concurrency: 300 is not valid — a whole number 1…256 (the service runs at most 256",
        ),
        ({"concurrency": "1.5"}, 'concurrency: "1.5" is not valid — a whole number 1…256'),
        ({"timeoutSeconds": "3601"}, "timeoutSeconds: 3601 is not valid — a whole number 1…3600"),
        ({"timeoutSeconds": "0"}, "timeoutSeconds: 0 is not valid"),
        ({"minInstances": "-1"}, "minInstances: -1 is not valid — a whole number 0…1000"),
        ({"maxInstances": "0"}, "maxInstances: 0 is not valid — a whole number 1…1000"),
        (
            {"minInstances": "4", "maxInstances": "3"},
            "minInstances: 4 is not valid — at most maxInstances (3)",
        ),
        (
            {"cpu": "0.5", "memory": "512Mi", "concurrency": "2", "executionEnvironment": "gen1"},
            "concurrency: 2 is not valid — 1 with cpu 0.5 (below 1 vCPU)",
        ),
        (
            {"cpu": "0.5", "memory": "512Mi", "executionEnvironment": "gen2"},
            'executionEnvironment: "gen2" is not valid — gen1 with cpu 0.5 (below 1 vCPU)',
        ),
        (
            {"cpu": "0.5", "memory": "512Mi", "executionEnvironment": "gen1", "cpuAlwaysAllocated": "true"},
            "cpuAlwaysAllocated: true is not valid — false with cpu 0.5 (below 1 vCPU)",
        ),
        (
            {"cpu": "0.25", "memory": "1Gi", "executionEnvironment": "gen1"},
            'memory: "1Gi" is not valid — with cpu 0.25 use 128Mi…512Mi',
        ),
        ({"gpu": "nvidia-a100"}, 'gpu: "nvidia-a100" is not valid — empty for none, or one of nvidia-l4'),
        (
            {
                "gpu": "nvidia-l4",
                "cpu": "4",
                "memory": "8Gi",
                "cpuAlwaysAllocated": "true",
                "runtime": "torch",
            },
            'memory: "8Gi" is not valid — at least 16Gi with gpu nvidia-l4',
        ),
        (
            {"gpu": "nvidia-l4", "cpuAlwaysAllocated": "false"},  # set by the stack: kept, and refused
            "cpuAlwaysAllocated: false is not valid — true with gpu nvidia-l4",
        ),
        (
            {"modelLoadSeconds": "121"},
            "modelLoadSeconds: 121 is not valid — a whole number 1…120: the startup",
        ),
        ({"startupCpuBoost": "yes"}, 'startupCpuBoost: "yes" is not valid — true or false'),
        ({"public": "1"}, 'public: "1" is not valid — true or false'),
        ({"invokers": '"user:a@b.c"'}, 'invokers: "\\"user:a@b.c\\"" is not valid — a list of strings'),
        ({"invokers": '["allUsers"]'}, 'invokers: "allUsers" is not valid — set `public: true`'),
        ({"invokers": '["bob@example.com"]'}, 'invokers: "bob@example.com" is not valid — an IAM member'),
        ({"ingress": "public"}, 'ingress: "public" is not valid — one of all, internal,'),
        ({"platform": "lambda"}, 'platform: "lambda" is not valid — one of cloudrun, knative'),
        ({"builder": "kaniko"}, 'builder: "kaniko" is not valid — one of docker, cloudbuild'),
        ({"serviceName": "QA_Service"}, 'serviceName: "QA_Service" is not valid — lowercase letters'),
        ({"serviceName": "a" * 50}, "serviceName: "),
        ({"image": "not an image"}, 'image: "not an image" is not valid — an image reference'),
        ({"modelId": "has spaces/x y"}, 'modelId: "has spaces/x y" is not valid'),
        ({"modelRevision": " "}, 'modelRevision: " " is not valid — a Hub commit hash or tag'),
        ({"logLevel": "LOUD"}, 'logLevel: "LOUD" is not valid — one of DEBUG, INFO, WARNING, ERROR'),
        ({"repositoryKeepVersions": "0"}, "repositoryKeepVersions: 0 is not valid — a whole number 1…100"),
        ({"maxContextChars": "10"}, "maxContextChars: 10 is not valid"),
        ({"runtime": "tensorflow"}, 'runtime: "tensorflow" is not valid — one of onnx, openvino, torch'),
        ({"precision": "fp16"}, 'precision: "fp16" is not valid — one of auto, fp32, bf16, int8'),
        *(
            (
                {"int8AccuracyMargin": bad},
                f'int8AccuracyMargin: "{bad}" is not valid — a number of F1 points 0…100',
            )
            for bad in ("-0.5", "100.5", "one", "1e0", "nan", "inf", "", "1,5", "٣")
        ),
        (
            {"runtime": "torch", "precision": "int8"},
            'precision: "int8" is not valid — fp32 with runtime torch',
        ),
        (
            {"runtime": "onnx", "precision": "bf16"},
            'precision: "bf16" is not valid — fp32, int8 with runtime onnx (bf16 needs runtime openvino)',
        ),
        (
            {
                "gpu": "nvidia-l4",
                "cpu": "4",
                "memory": "16Gi",
                "cpuAlwaysAllocated": "true",
                "runtime": "onnx",
            },
            'runtime: "onnx" is not valid — torch with gpu nvidia-l4: the onnx image runs on CPU only',
        ),
    ],
)
def test_each_invalid_setting_fails_with_one_line_naming_key_value_and_fix(overrides, expected):
    with pytest.raises(SettingsError) as caught:
        make_settings(**overrides)
    problems = caught.value.problems
    assert len(problems) == 1, problems
    assert "\n" not in problems[0]
    assert problems[0].startswith(expected), problems[0]


def test_several_problems_are_all_reported_one_per_line():
    with pytest.raises(SettingsError) as caught:
        make_settings(cpu="3", concurrency="-1", public="maybe")
    assert [p.split(":")[0] for p in caught.value.problems] == ["cpu", "concurrency", "public"]
    assert str(caught.value).count("\n") == 2


def test_missing_project_and_key_are_reported():
    raw = default_raw()
    del raw["timeoutSeconds"]
    with pytest.raises(SettingsError) as caught:
        build_settings(raw, project="", region="us-central1", stack="x")
    assert caught.value.problems[0].startswith("gcp:project: not set — run `pulumi config set gcp:project")
    assert any(p.startswith("timeoutSeconds: not set") for p in caught.value.problems)


@pytest.mark.parametrize(
    ("cpu", "memory"),
    [
        ("0.08", "128Mi"),
        ("0.5", "1Gi"),
        ("500m", "512Mi"),
        ("1", "4Gi"),
        ("2", "8Gi"),
        ("4", "2Gi"),
        ("6", "24Gi"),
        ("8", "32Gi"),
        ("8", "4096Mi"),
        ("2", "3G"),
    ],
)
def test_valid_cpu_memory_pairs_pass(cpu, memory):
    environment = "gen1" if limits.parse_cpu(cpu).vcpu < 1 else "gen2"
    settings = make_settings(cpu=cpu, memory=memory, executionEnvironment=environment)
    assert settings.service.cpu.text == cpu


def test_gpu_needs_four_vcpu():
    with pytest.raises(SettingsError) as caught:
        make_settings(gpu="nvidia-l4", cpu="2", memory="8Gi")
    assert caught.value.problems == [
        'cpu: "2" is not valid — at least 4 with gpu nvidia-l4',
        'memory: "8Gi" is not valid — at least 16Gi with gpu nvidia-l4',
    ]


def test_gpu_settings_that_fit_pass():
    settings = make_settings(
        gpu="nvidia-l4", cpu="4", memory="16Gi", cpuAlwaysAllocated="true", runtime="torch"
    )
    assert settings.service.gpu == "nvidia-l4"


def test_ingress_values_map_to_cloud_run_enums():
    assert {make_settings(ingress=k).access.ingress for k in INGRESS} == set(INGRESS)
    assert INGRESS["internal"] == "INGRESS_TRAFFIC_INTERNAL_ONLY"


def test_labels_are_valid_gcp_label_values():
    labels = make_settings(stack="Feature/ABC").labels
    assert labels["stack"] == "feature-abc"


@pytest.mark.parametrize(
    ("text", "mib"),
    [("512Mi", 512), ("3Gi", 3072), ("1G", 1000**3 / 2**20), ("1073741824", 1024), ("2Ti", 2 * 2**20)],
)
def test_memory_quantities(text, mib):
    assert limits.parse_memory_mib(text) == pytest.approx(mib)


@pytest.mark.parametrize("text", ["", "3 Gi", "3GB", "-1Gi", "Gi"])
def test_memory_quantities_rejected(text):
    assert limits.parse_memory_mib(text) is None


def test_startup_probe_budget_doubles_load_time_with_a_floor():
    assert limits.startup_probe_budget(20, 1) == (40, 40)
    assert limits.startup_probe_budget(1, 10) == (3, 30)
    assert limits.startup_probe_budget(120, 1)[1] == limits.STARTUP_PROBE_BUDGET_MAX_SECONDS
