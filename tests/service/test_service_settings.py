"""Settings from the environment: defaults, validation with a clear line, CPU detection."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from service.cpus import available_cpus, cgroup_cpu_limit
from service.settings import METADATA_FILE, Settings, SettingsError

ROOT = Path(__file__).resolve().parents[2]


def test_defaults(tiny_model_dir):
    settings = Settings.from_env({"MODEL_DIR": str(tiny_model_dir)})
    assert settings.port == 8080
    assert settings.concurrency == 1
    assert settings.num_threads == available_cpus() >= 1
    assert settings.max_queue == 4
    assert settings.gunicorn_threads == 1 + 4 + 2
    assert settings.log_level == "INFO"
    assert settings.model_id == tiny_model_dir.name  # no metadata file: the directory's name
    assert settings.model_revision == "unknown"


def test_values_are_read_and_trimmed(tiny_model_dir):
    env = {
        "MODEL_DIR": str(tiny_model_dir),
        "PORT": " 9000 ",
        "CONCURRENCY": "3",
        "NUM_THREADS": "2",
        "MAX_CONTEXT_CHARS": "1000",
        "MAX_QUESTION_TOKENS": "32",
        "MAX_BODY_BYTES": "4096",
        "MAX_QUEUE": "0",
        "QUEUE_TIMEOUT_S": "2.5",
        "MAX_BATCH_WINDOWS": "4",
        "LOG_LEVEL": "debug",
        "MODEL_ID": "org/model",
        "MODEL_REVISION": "abc123",
    }
    s = Settings.from_env(env)
    assert (s.port, s.concurrency, s.num_threads, s.max_queue) == (9000, 3, 2, 0)
    assert (s.max_context_chars, s.max_question_tokens, s.max_body_bytes) == (1000, 32, 4096)
    assert (s.queue_timeout_s, s.max_batch_windows, s.log_level) == (2.5, 4, "DEBUG")
    assert (s.model_id, s.model_revision) == ("org/model", "abc123")


def test_batching_settings(tiny_model_dir):
    off = Settings.from_env({"MODEL_DIR": str(tiny_model_dir), "CONCURRENCY": "8"})
    assert (off.batching, off.inference_threads) == (False, 8)  # one thread per model slot
    on = Settings.from_env(
        {"MODEL_DIR": str(tiny_model_dir), "CONCURRENCY": "8", "BATCHING": "1", "BATCH_MAX_WAIT_MS": "2.5"}
    )
    assert (on.batching, on.batch_max_wait_ms, on.inference_threads) == (True, 2.5, 1)
    assert on.gunicorn_threads == 8 + 4 + 2  # admission is unchanged by batching


def test_model_labels_come_from_the_bootstrap_metadata(tmp_path, tiny_model_dir):
    model = tmp_path / "model"
    model.mkdir()
    for name in ("config.json", "tokenizer.json", "model.safetensors"):  # no manifest: served as torch
        (model / name).write_bytes((tiny_model_dir / name).read_bytes())
    (model / METADATA_FILE).write_text(json.dumps({"model_id": "hub/qa", "revision": "f00d"}))
    s = Settings.from_env({"MODEL_DIR": str(model)})
    assert (s.model_id, s.model_revision) == ("hub/qa", "f00d")
    s = Settings.from_env({"MODEL_DIR": str(model), "MODEL_REVISION": "override"})
    assert (s.model_id, s.model_revision) == ("hub/qa", "override")


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("PORT", "http", "whole number from 1 to 65535"),
        ("PORT", "0", "from 1 to 65535"),
        ("PORT", "70000", "from 1 to 65535"),
        ("CONCURRENCY", "0", "from 1 to 256"),
        ("CONCURRENCY", "1.5", "whole number"),
        ("NUM_THREADS", "-2", "from 1 to 1024"),
        ("MAX_QUEUE", "-1", "from 0 to 4096"),
        ("MAX_BODY_BYTES", "10", "from 1024"),
        ("MAX_CONTEXT_CHARS", "lots", "whole number"),
        ("MAX_QUESTION_TOKENS", "0", "from 1 to 4096"),
        ("QUEUE_TIMEOUT_S", "nan", "number of seconds"),
        ("QUEUE_TIMEOUT_S", "soon", "number of seconds"),
        ("MAX_BATCH_WINDOWS", "0", "from 1 to 1024"),
        ("BATCHING", "sometimes", "1 or 0"),
        ("BATCH_MAX_WAIT_MS", "-1", "number of ms from 0 to 1000"),
        ("BATCH_MAX_WAIT_MS", "5000", "number of ms from 0 to 1000"),
        ("LOG_LEVEL", "LOUD", "DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("MODEL_ID", "bad\nlabel", "printable"),
    ],
)
def test_a_bad_value_names_the_variable_and_what_is_valid(tiny_model_dir, name, value, expected):
    with pytest.raises(SettingsError) as err:
        Settings.from_env({"MODEL_DIR": str(tiny_model_dir), name: value})
    message = str(err.value)
    assert message.startswith(name)
    assert expected in message
    assert "\n" not in message


def test_model_dir_is_required_and_checked(tmp_path):
    with pytest.raises(SettingsError, match=r"^MODEL_DIR is not set"):
        Settings.from_env({})
    with pytest.raises(SettingsError, match="expected an existing directory"):
        Settings.from_env({"MODEL_DIR": str(tmp_path / "missing")})
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(SettingsError, match=r"tokenizer\.json missing"):
        Settings.from_env({"MODEL_DIR": str(tmp_path)})
    assert Settings.from_env({}, require_model=False).model_dir is None


@pytest.mark.parametrize(
    ("files", "limit"),
    [
        ({"cpu.max": "200000 100000\n"}, 2.0),
        ({"cpu.max": "150000 100000\n"}, 1.5),
        ({"cpu.max": "max 100000\n"}, None),
        ({"cpu/cpu.cfs_quota_us": "100000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 1.0),
        ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
        ({}, None),
    ],
)
def test_cgroup_cpu_quota(tmp_path, files, limit):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert cgroup_cpu_limit(tmp_path) == limit


def test_available_cpus_honours_quota_and_affinity(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    assert available_cpus(tmp_path) == 4  # no quota files: the affinity mask
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert available_cpus(tmp_path) == 1  # 1.5 CPUs of quota: one thread, no throttling
    (tmp_path / "cpu.max").write_text("800000 100000\n")
    assert available_cpus(tmp_path) == 4  # quota above the mask: the mask
    (tmp_path / "cpu.max").write_text("50000 100000\n")
    assert available_cpus(tmp_path) == 1  # never 0


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-m", "service"],
        [sys.executable, "-m", "gunicorn", "--config", "service/gunicorn.conf.py"],
    ],
    ids=["python-m-service", "gunicorn-config"],
)
def test_bad_environment_stops_start_up_with_one_line(tiny_model_dir, command):
    env = {**os.environ, "MODEL_DIR": str(tiny_model_dir), "NUM_THREADS": "many"}
    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == ["error: NUM_THREADS='many' is not valid: expected a whole number from 1 to 1024"]
