"""The Makefile's Pulumi targets, against a stand-in `pulumi` that records how it was called."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

STUB = """#!/usr/bin/env bash
echo "$*|backend=${PULUMI_BACKEND_URL:-}|passphrase=${PULUMI_CONFIG_PASSPHRASE-unset}" >> "$CALLS"
if [[ "$1" == whoami ]]; then exit "${WHOAMI_EXIT:-1}"; fi
exit 0
"""


pytestmark = pytest.mark.slow  # each test runs make (a process)


def make(target: str, tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "pulumi").write_text(STUB)
    (bin_dir / "pulumi").chmod(0o755)
    calls = tmp_path / "calls.txt"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    result = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-o",
            ".venv/.installed",
            target,
            "STACK=prod",
            f"PULUMI_STATE={tmp_path / 'state'}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={**clean, "PATH": f"{bin_dir}:{clean['PATH']}", "CALLS": str(calls), **env},
    )
    return result, calls.read_text().splitlines() if calls.exists() else []


@pytest.mark.parametrize(
    ("target", "command"),
    [
        ("preview", "preview --stack prod --diff"),
        ("up", "up --stack prod"),
        ("destroy", "destroy --stack prod"),
    ],
)
def test_targets_use_a_local_file_backend_without_a_login(tmp_path, target, command):
    result, calls = make(target, tmp_path)
    assert result.returncode == 0, result.stderr
    backend = f"backend=file://{tmp_path / 'state'}"
    assert calls[0].startswith("whoami|")
    assert calls[1] == f"stack select prod --create|{backend}|passphrase="
    assert calls[2] == f"{command}|{backend}|passphrase="
    assert (tmp_path / "state").is_dir()
    assert "empty secrets passphrase" in result.stderr


def test_an_existing_login_is_respected(tmp_path):
    result, calls = make("preview", tmp_path, WHOAMI_EXIT="0")
    assert result.returncode == 0, result.stderr
    assert calls[1:] == [
        "stack select prod --create|backend=|passphrase=unset",
        "preview --stack prod --diff|backend=|passphrase=unset",
    ]


def test_an_explicit_backend_and_passphrase_win(tmp_path):
    result, calls = make(
        "up", tmp_path, PULUMI_BACKEND_URL="gs://bucket/state", PULUMI_CONFIG_PASSPHRASE="s3cret"
    )
    assert result.returncode == 0, result.stderr
    assert calls == [
        "stack select prod --create|backend=gs://bucket/state|passphrase=s3cret",
        "up --stack prod|backend=gs://bucket/state|passphrase=s3cret",
    ]


def test_missing_cli_fails_with_install_hint(tmp_path):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    result = subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.installed", "preview"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={**clean, "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode != 0
    assert "error: the Pulumi CLI is not installed" in result.stderr


def test_stack_target_selects_or_creates_the_stack(tmp_path):
    result, calls = make("stack", tmp_path)
    assert result.returncode == 0, result.stderr
    assert calls[1].startswith("stack select prod --create|backend=file://")
    assert result.stdout.strip() == "selected stack prod"


def test_render_stdout_is_only_the_render(tmp_path):
    """`make render STACK=prod FORMAT=json > f.json` must leave a file that parses (no echo line)."""
    # As a user types it at a shell: not a sub-make of `make test` (which prints directory lines).
    shell = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}
    result = subprocess.run(
        ["make", "-o", ".venv/.installed", "render", "STACK=prod", "FORMAT=json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env=shell,
    )
    assert result.returncode == 0, result.stderr
    resources = json.loads(result.stdout)
    assert {r["type"] for r in resources} >= {"gcp:cloudrunv2/service:Service"}


def test_install_progress_never_reaches_stdout():
    """The install rule runs before a first render: every line it runs is silent and sends its
    output to stderr, so `make render > file` stays clean on a fresh clone too."""
    text = (ROOT / "Makefile").read_text()
    rule = text.split("$(VENV)/.installed: ", 1)[1].split("\n\n", 1)[0].replace("\\\n", " ")
    commands = [line for line in rule.splitlines()[1:] if line.startswith("\t")]
    assert commands and all(line.startswith("\t@") for line in commands)
    assert all(">&2" in line or line.startswith("\t@touch") for line in commands)
