"""Generated models for the demo and the cold-start timer, and the runtime each bakes for."""

from __future__ import annotations

import subprocess

import pytest

from bench import models
from bench.__main__ import build_parser
from bench.cli_common import CliError
from bench.cli_load import _verdict
from bench.demo import baked_pair
from infra.plan import image_build_args
from infra.settings import settings_from_stack_files
from service.bake.manifest import DEFAULT_PRECISION, RUNTIMES


def test_coldstart_defaults_to_onnx_fp32_and_the_demo_to_the_stacks_image():
    parser = build_parser()
    args = parser.parse_args(["coldstart"])
    assert (args.runtime, args.precision) == ("onnx", "fp32")
    args = parser.parse_args(["demo"])
    assert (args.runtime, args.precision) == (None, None)  # resolved by baked_pair
    assert args.rps == 5.0  # within one local instance


def test_the_demo_bakes_what_the_dev_stacks_image_bakes():
    settings = settings_from_stack_files(models.IMAGE_STACK)
    build_args = image_build_args(settings)
    assert baked_pair(None, None) == (build_args["RUNTIME"], build_args["PRECISION"])
    assert models.image_pair() == (settings.model.runtime, settings.model.precision)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_runtime_alone_gets_its_own_default_precision(runtime):
    assert baked_pair(runtime, None) == (runtime, DEFAULT_PRECISION[runtime])


def test_a_pair_the_service_cannot_serve_is_one_line():
    with pytest.raises(CliError, match="runtime/precision torch/int8 is not valid: valid are onnx/fp32"):
        baked_pair("torch", "int8")


def test_ensure_baked_bakes_once_with_service_bake(tmp_path, monkeypatch):
    checkpoint = tmp_path / "tiny"
    checkpoint.mkdir()
    (checkpoint / "config.json").write_text("{}")
    (checkpoint / "model.safetensors").write_bytes(b"")
    commands = []

    def fake_run(command, **kwargs):
        commands.append(command)
        out = command[command.index("--out") + 1]
        (tmp_path / out).mkdir(parents=True, exist_ok=True)
        (tmp_path / out / models.MANIFEST).write_text("{}")
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(models.subprocess, "run", fake_run)
    path = models.ensure_baked("tiny", "onnx", "int8", root=tmp_path)
    assert path == tmp_path / "tiny-onnx-int8"
    (command,) = commands
    assert command[1:3] == ["-m", "service.bake"]
    assert command[command.index("--source") + 1] == str(checkpoint)
    assert command[command.index("--runtime") + 1 :][:3] == ["onnx", "--precision", "int8"]
    assert command[command.index("--accuracy-data") + 1] == "builtin"  # offline: said explicitly
    assert models.ensure_baked("tiny", "onnx", "int8", root=tmp_path) == path
    assert len(commands) == 1  # cached: the manifest is there


def test_refusals_at_capacity_get_a_hint(capsys):
    report = {"status_counts": {"200": 40, "503": 6}, "requests": {"answered": 46, "ok": 40}}
    assert _verdict(report) == 0
    err = capsys.readouterr().err
    assert err.startswith("6 request(s) got 429/503: the service was at capacity") and err.count("\n") == 1
    _verdict({"status_counts": {"200": 3}, "requests": {"answered": 3, "ok": 3}})
    assert capsys.readouterr().err == ""
