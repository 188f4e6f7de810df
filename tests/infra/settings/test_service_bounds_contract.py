"""Contract between the stack checks and the service: every env the spec renders for a valid
stack is accepted by `service.settings.Settings.from_env`.

Property-style over the limits: each dimension at its bounds (and a seeded sample of
combinations), on both platforms, with and without a GPU, every (runtime, precision) pair and
log level. A stack that passes the checks must never render a revision that cannot start.
"""

from __future__ import annotations

import itertools
import random

import pytest
from infra_helpers import make_settings

from infra import limits
from infra.limits import service_bounds
from infra.plan import model_service_spec
from infra.settings import SUPPORTED, SettingsError
from service.settings import Settings as ServiceSettings
from service.settings import SettingsError as ServiceSettingsError

DIGEST = "europe-west1-docker.pkg.dev/proj/repo/qa@sha256:" + "0" * 64
GPU = {"gpu": "nvidia-l4", "cpu": "4", "memory": "16Gi", "cpuAlwaysAllocated": "true", "runtime": "torch"}
KNATIVE_GPU = {"platform": "knative", "gpu": "nvidia-l4", "cpu": "4", "memory": "16Gi", "gkeGpuMaxNodes": "3"}


def _cloud_run_sizes() -> list[dict[str, str]]:
    """Every whole-vCPU size at its memory floor and ceiling, and the smallest fractional one."""
    sizes = [
        {"cpu": str(cpu), "memory": limits.format_mib(memory)}
        # gen2 needs 512 MiB: the smaller floors are gen1's
        | ({"executionEnvironment": "gen1"} if memory < limits.GEN2_MIN_MEMORY_MIB else {})
        for cpu, bounds in limits.MEMORY_RANGE_MIB.items()
        for memory in bounds
    ]
    fractional = {"concurrency": "1", "executionEnvironment": "gen1", "cpuAlwaysAllocated": "false"}
    sizes.append({"cpu": str(limits.CPU_MIN), "memory": "512Mi", **fractional})
    return sizes


def _dimensions() -> list[dict[str, str]]:
    low_ctx, high_ctx = limits.MAX_CONTEXT_CHARS
    load_max = limits.STARTUP_PROBE_BUDGET_MAX_SECONDS // 2
    label = "x" * limits.MODEL_LABEL_MAX_CHARS
    return [
        {"concurrency": "1"},
        {"concurrency": str(limits.CONCURRENCY_MAX)},
        {"timeoutSeconds": "1"},
        {"timeoutSeconds": str(limits.TIMEOUT_MAX_SECONDS)},
        {"modelLoadSeconds": "1"},
        {"modelLoadSeconds": str(load_max)},
        {"maxContextChars": str(low_ctx)},
        {"maxContextChars": str(high_ctx)},
        {"modelId": label},
        {"modelRevision": label},
        *({"logLevel": level} for level in limits.LOG_LEVELS),
        *(
            {"runtime": runtime, "precision": precision}
            for runtime, precisions in SUPPORTED.items()
            for precision in precisions
        ),
        *_cloud_run_sizes(),
        GPU,
        {**GPU, "concurrency": str(limits.CONCURRENCY_MAX)},
        {"gpu": "nvidia-l4"},  # everything else derived from it
        # Dynamic batching: its bounds, on a CPU and with a GPU.
        {"batching": "true", "batchMaxWaitMs": str(limits.BATCH_MAX_WAIT_MS[0])},
        {"batching": "true", "batchMaxWaitMs": str(limits.BATCH_MAX_WAIT_MS[1])},
        {"maxBatchWindows": str(limits.MAX_BATCH_WINDOWS[0])},
        {"gpu": "nvidia-l4", "maxBatchWindows": str(limits.MAX_BATCH_WINDOWS[1])},
        # Knative: any CPU quantity that fits the node, GPUs on the GPU pool.
        {"platform": "knative", "cpu": "500m", "memory": "1Gi"},
        {"platform": "knative", "cpu": "3", "memory": "12Gi", "concurrency": str(limits.CONCURRENCY_MAX)},
        {"platform": "knative", "timeoutSeconds": str(limits.KNATIVE_MAX_REVISION_TIMEOUT_SECONDS)},
        KNATIVE_GPU,
        # The most vCPUs a pod may ask for, on a node big enough to hold it.
        {
            "platform": "knative",
            "gkeMachineType": f"n2-standard-{2 * limits.CPU_QUANTITY_MAX}",
            "cpu": str(limits.CPU_QUANTITY_MAX),
            "memory": "8Gi",
        },
    ]


def _sampled_combinations(count: int = 60, seed: int = 11) -> list[dict[str, str]]:
    """Random unions of two or three dimensions; the invalid ones are filtered out by the checks."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible sample, not a secret
    dims = _dimensions()
    return [
        {k: v for part in rng.sample(dims, rng.choice((2, 3))) for k, v in part.items()} for _ in range(count)
    ]


def _env(overrides: dict[str, str]) -> dict[str, str] | None:
    """The env the spec renders for this stack, or None when the stack checks refuse it."""
    try:
        settings = make_settings(**overrides)
    except SettingsError:
        return None
    return model_service_spec(settings, DIGEST).env_dict


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """The files `from_env` requires of MODEL_DIR: config, tokenizer, torch weights (their contents
    are only read when the model loads, not by the settings)."""
    path = tmp_path_factory.mktemp("model")
    for name in ("config.json", "tokenizer.json", "model.safetensors"):
        (path / name).write_text("{}")
    return path


def _case_id(overrides: dict[str, str]) -> str:
    return ",".join(f"{k}={v[:12]}" for k, v in overrides.items())


@pytest.mark.parametrize("overrides", _dimensions(), ids=_case_id)
def test_every_bound_of_every_setting_renders_an_env_the_service_accepts(overrides, model_dir):
    env = _env(overrides)
    assert env is not None, f"the sweep's own case is refused by the stack checks: {overrides}"
    settings = ServiceSettings.from_env({**env, "MODEL_DIR": str(model_dir)})
    assert settings.concurrency == int(env["CONCURRENCY"])
    assert settings.num_threads == int(env["NUM_THREADS"])
    assert settings.max_context_chars == int(env["MAX_CONTEXT_CHARS"])
    assert settings.log_level == env["LOG_LEVEL"]
    assert (settings.model_id, settings.model_revision) == (env["MODEL_ID"], env["MODEL_REVISION"])
    assert settings.batching == (env.get("BATCHING") == "1")
    if settings.batching:
        assert settings.batch_max_wait_ms == float(env["BATCH_MAX_WAIT_MS"])
    if "MAX_BATCH_WINDOWS" in env:
        assert settings.max_batch_windows == int(env["MAX_BATCH_WINDOWS"])


def test_sampled_combinations_that_pass_the_checks_start_the_service(model_dir):
    accepted = 0
    for overrides in _sampled_combinations():
        env = _env(overrides)
        if env is None:
            continue
        accepted += 1
        try:
            ServiceSettings.from_env({**env, "MODEL_DIR": str(model_dir)})
        except ServiceSettingsError as error:  # pragma: no cover - the failure message is the point
            pytest.fail(f"stack {overrides} passes the checks but the service refuses it: {error}")
    assert accepted >= 20, "the sample should mostly hold valid stacks"


def test_the_service_reads_every_env_the_spec_renders(model_dir):
    """A rendered variable the service ignored would make the bounds above meaningless: each one,
    set to something invalid, must stop the service."""
    env = _env({"gpu": "nvidia-l4"})  # a GPU stack renders every variable, the batching ones too
    assert env is not None
    invalid = {"MODEL_ID": "\x00", "MODEL_REVISION": "\x00", "LOG_LEVEL": "LOUD", "BATCHING": "maybe"}
    for name in env:
        with pytest.raises(ServiceSettingsError, match=name):
            ServiceSettings.from_env({**env, name: invalid.get(name, "-1"), "MODEL_DIR": str(model_dir)})


def test_stack_limits_are_never_looser_than_the_service():
    assert service_bounds.CONCURRENCY[1] >= limits.CONCURRENCY_MAX
    assert service_bounds.MAX_CONTEXT_CHARS[0] <= limits.MAX_CONTEXT_CHARS[0]
    assert limits.MAX_CONTEXT_CHARS[1] <= service_bounds.MAX_CONTEXT_CHARS[1]
    assert set(limits.LOG_LEVELS) <= set(service_bounds.LOG_LEVELS)
    assert service_bounds.NUM_THREADS[1] >= limits.CPU_QUANTITY_MAX  # the CPU is NUM_THREADS
    assert limits.BATCH_MAX_WAIT_MS == service_bounds.BATCH_MAX_WAIT_MS
    assert limits.MAX_BATCH_WINDOWS == service_bounds.MAX_BATCH_WINDOWS


def test_more_threads_than_the_service_takes_fail_in_one_line():
    cpu = str(limits.CPU_QUANTITY_MAX + 1)
    with pytest.raises(SettingsError) as caught:
        make_settings(platform="knative", gkeMachineType="n2-standard-4096", cpu=cpu, memory="8Gi")
    [line] = caught.value.problems
    assert line.startswith(f'cpu: "{cpu}" is not valid') and str(limits.CPU_QUANTITY_MAX) in line


def test_just_over_the_service_bound_fails_in_one_line():
    over = service_bounds.CONCURRENCY[1] + 1
    with pytest.raises(SettingsError) as caught:
        make_settings(concurrency=str(over))
    [line] = caught.value.problems
    assert line.startswith(
        f"concurrency: {over} is not valid — a whole number 1…{service_bounds.CONCURRENCY[1]}"
    )


@pytest.mark.parametrize("platform", ["cloudrun", "knative"])
def test_both_platforms_render_the_same_env_for_the_same_settings(platform):
    base = {"concurrency": "8", "logLevel": "DEBUG", "maxContextChars": "5000"}
    env = _env({"platform": platform, **base})
    assert env is not None
    assert {k: env[k] for k in ("CONCURRENCY", "LOG_LEVEL", "MAX_CONTEXT_CHARS")} == {
        "CONCURRENCY": "8",
        "LOG_LEVEL": "DEBUG",
        "MAX_CONTEXT_CHARS": "5000",
    }


def test_sweep_covers_every_rendered_variable():
    """The sweep above varies each env var the spec renders (a new one must join it)."""
    swept = set(itertools.chain.from_iterable(_dimensions()))
    rendered = _env({"gpu": "nvidia-l4"})
    assert rendered is not None
    by_setting = {
        "BATCHING": "batching",
        "BATCH_MAX_WAIT_MS": "batchMaxWaitMs",
        "MAX_BATCH_WINDOWS": "maxBatchWindows",
        "MODEL_ID": "modelId",
        "MODEL_REVISION": "modelRevision",
        "CONCURRENCY": "concurrency",
        "NUM_THREADS": "cpu",
        "MAX_CONTEXT_CHARS": "maxContextChars",
        "LOG_LEVEL": "logLevel",
    }
    assert set(rendered) == set(by_setting), "a new env var: add it to by_setting and the sweep"
    assert set(by_setting.values()) <= swept
