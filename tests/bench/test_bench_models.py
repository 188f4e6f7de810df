"""Generated models for the demo and the cold-start timer: baked for the default runtime."""

from __future__ import annotations

import subprocess

from bench import models
from bench.__main__ import build_parser
from bench.cli_load import _verdict


def test_demo_and_coldstart_default_to_the_images_runtime():
    parser = build_parser()
    for command in ("demo", "coldstart"):
        args = parser.parse_args([command])
        assert (args.runtime, args.precision) == ("onnx", "fp32"), command
    assert parser.parse_args(["demo"]).rps == 5.0  # within one local instance


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
