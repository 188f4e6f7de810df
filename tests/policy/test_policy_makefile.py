"""`make test` ends with `python -m policy check` on every shipped stack (Pulumi.*.yaml)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

STUB = """#!/usr/bin/env bash
echo "$*" >> calls.txt
[[ "$*" != "-m policy check broken" ]]
"""


def policy_step(py: Path) -> str:
    """The shell that `make test` runs after pytest, with PY pointing at a stub."""
    dry_run = subprocess.run(
        ["make", "--no-print-directory", "-n", "-o", ".venv/.installed", "test", f"PY={py}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    after_pytest = re.split(rf"{re.escape(str(py))} -m pytest -q[^\n]*\n", dry_run, maxsplit=1)[1]
    assert "policy check" in after_pytest
    return after_pytest


def test_make_test_checks_every_stack_and_fails_if_any_fails(tmp_path):
    py = tmp_path / "python"
    py.write_text(STUB)
    py.chmod(0o755)
    for stack in ("dev", "broken", "prod"):
        (tmp_path / f"Pulumi.{stack}.yaml").write_text("config: {}\n")
    (tmp_path / "Pulumi.yaml").write_text("name: x\n")  # the project file is not a stack
    result = subprocess.run(
        ["bash", "-eu", "-o", "pipefail", "-c", policy_step(py)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 1  # broken failed...
    calls = (tmp_path / "calls.txt").read_text().splitlines()
    assert calls == [f"-m policy check {s}" for s in ("broken", "dev", "prod")]  # ...and all ran
