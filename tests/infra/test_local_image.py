"""`make image` without an engine: the build args, pip sources, context and command it builds."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bench.containers import platform_run_argv
from infra import local_image
from infra.plan import image_build_args
from infra.settings import settings_from_stack_files

ROOT = Path(__file__).resolve().parents[2]

LISTING = """\
:env:.cert='/etc/ssl/certs/ca-certificates.crt'
:env:.find-links='/opt/wheels'
global.constraint='/etc/xdg/pip/constraints.txt'
global.extra-index-url='file:///opt/pypi/simple https://mirror.example/simple'
global.find-links='/srv/wheels'
install.no-compile='1'
"""


def test_pip_config_is_merged_with_the_environment_winning():
    sections = local_image.parse_pip_config(LISTING)
    assert sections["global"]["find-links"] == "/srv/wheels"  # listed after :env: -> later wins
    assert sections["global"]["cert"] == "/etc/ssl/certs/ca-certificates.crt"
    assert sections["install"] == {"no-compile": "1"}
    text = local_image.pip_conf_text(sections)
    assert text.startswith("[global]\n") and "[install]\nno-compile = 1\n" in text


def test_only_existing_local_paths_are_mounted_and_an_index_brings_its_files(tmp_path):
    (tmp_path / "pypi" / "simple").mkdir(parents=True)
    (tmp_path / "wheels").mkdir()
    cert = tmp_path / "ca.pem"
    cert.write_text("x")
    sections = {
        "global": {
            "cert": str(cert),
            "find-links": f"{tmp_path / 'wheels'} {tmp_path / 'missing'}",
            "extra-index-url": f"file://{tmp_path / 'pypi' / 'simple'} https://pypi.example/simple",
            "timeout": "60",
        }
    }
    assert local_image.pip_local_paths(sections) == [cert, tmp_path / "wheels", tmp_path / "pypi"]


def test_the_build_args_are_the_ones_a_deploy_uses():
    overrides = {"runtime": "onnx", "precision": "int8"}
    args = local_image.stack_build_args("dev", overrides)
    assert args == image_build_args(settings_from_stack_files("dev", overrides))
    assert (args["RUNTIME"], args["PRECISION"]) == ("onnx", "int8")


def test_a_local_checkpoint_is_staged_in_model_src_and_hashed_by_content(tmp_path):
    checkpoint = tmp_path / "my-model"
    checkpoint.mkdir()
    (checkpoint / "config.json").write_text("{}")
    (checkpoint / "model.safetensors").write_bytes(b"\0" * 10)
    context = local_image.context_with_checkpoint(checkpoint, tmp_path / "work")
    assert (context / "Dockerfile").is_file()
    assert sorted(p.name for p in (context / "model-src").iterdir()) == ["config.json", "model.safetensors"]
    assert not (ROOT / "service" / "model-src" / "config.json").exists()  # the repository's stays
    digest = local_image.checkpoint_digest(checkpoint)
    assert digest.startswith("sha256:") and len(digest) == 7 + 16
    (checkpoint / "model.safetensors").write_bytes(b"\1" * 10)
    assert local_image.checkpoint_digest(checkpoint) != digest


def test_buildah_gets_read_only_mounts_and_docker_a_plain_build(tmp_path):
    plan = local_image.BuildPlan(
        "buildah", "qa:x", tmp_path, {"RUNTIME": "onnx"}, (("/h/pip.conf", "/etc/pip.conf"),)
    )
    argv = local_image.build_command(plan)
    assert argv[:4] == ["buildah", "bud", "--isolation", "chroot"]
    assert "--layers" in argv and "--volume=/h/pip.conf:/etc/pip.conf:ro" in argv
    assert "--build-arg=RUNTIME=onnx" in argv and argv[-1] == str(tmp_path)
    docker = local_image.build_command(local_image.BuildPlan("docker", "qa:x", tmp_path, {"A": ""}))
    assert docker[:2] == ["docker", "build"] and "--build-arg=A=" in docker
    assert not any(a.startswith("--volume") for a in docker)


def test_the_real_base_is_read_from_the_dockerfile():
    assert local_image.dockerfile_default("PYTHON_IMAGE").startswith("python:3.11-slim-bookworm@sha256:")
    with pytest.raises(local_image.ImageBuildError, match="NOPE"):
        local_image.dockerfile_default("NOPE")


def test_bad_build_arg_and_bad_setting_fail_in_one_line():
    with pytest.raises(local_image.ImageBuildError, match="KEY=VALUE"):
        local_image.parse_build_args(["novalue"])
    result = subprocess.run(
        [".venv/bin/python", "-m", "infra", "image", "--precision", "int4", "--engine", "docker"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "int4" in result.stderr


def test_make_image_passes_its_variables_through():
    dry = subprocess.run(
        [
            "make",
            "-n",
            "-o",
            ".venv/.installed",
            "image",
            "RUNTIME=torch",
            "PRECISION=fp32",
            "MODEL_SOURCE=/m",
            "MODEL_REVISION=r1",
            "IMAGE=qa:t",
            "BUILD_ARGS=A=1 B=",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    for part in (
        '--runtime "torch"',
        '--precision "fp32"',
        '--model-source "/m"',
        '--model-revision "r1"',
        '--image "qa:t"',
        '--build-arg "A=1"',
        '--build-arg "B="',
    ):
        assert part in dry, part


def test_containers_run_as_the_platform_runs_them():
    argv = platform_run_argv("podman", "qa:x", port=9123, memory_mib=2048, env={"A": "1"})
    for flag in (
        "--user=10001:10001",
        "--read-only",
        "--read-only-tmpfs=false",
        "--cap-drop=all",
        "--security-opt=no-new-privileges",
        "--memory=2048m",
        "--env=PORT=9123",
        "--env=A=1",
    ):
        assert flag in argv, flag
    assert any(a.startswith("--tmpfs=/tmp:") for a in argv)
    assert argv[-1] == "qa:x"
