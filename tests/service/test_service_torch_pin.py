"""torch's version is written once, in constraints.txt (the repository's full pin set): the
Makefile and the benchmark studies read it from there; the files that cannot read it (the
Dockerfile, whose build context is service/; the requirement files pip reads) must agree with it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from bench.studies.common import pinned

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^torch==(\S+)$", re.M)


def constraints_version() -> str:
    [version] = PIN.findall((ROOT / "constraints.txt").read_text(encoding="utf-8"))
    return version


def test_the_pin_is_read_from_the_full_pin_set():
    assert pinned("torch") == f"torch=={constraints_version()}"
    assert pinned("TORCH") == pinned("torch")  # names compare case-insensitively, as pip does
    with pytest.raises(LookupError, match="pins no no-such-package"):
        pinned("no-such-package")


@pytest.mark.parametrize("path", ["requirements-dev.txt", "service/constraints.txt"])
def test_requirement_files_pin_the_same_torch(path):
    assert PIN.findall((ROOT / path).read_text(encoding="utf-8")) == [constraints_version()]


def test_the_dockerfile_defaults_to_the_same_torch():
    dockerfile = (ROOT / "service" / "Dockerfile").read_text(encoding="utf-8")
    assert re.findall(r"^ARG TORCH_VERSION=(\S+)$", dockerfile, re.M) == [constraints_version()]


def test_no_other_file_spells_a_torch_version():
    """Code and build files name torch's version only through the pin (docs quote measured runs)."""
    tracked = subprocess.run(
        ["git", "ls-files", "*.py", "*.sh", "Makefile", "*Dockerfile", "*.toml", "*.yaml", "*.txt"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    allowed = {"constraints.txt", "requirements-dev.txt", "service/constraints.txt", "service/Dockerfile"}
    version = re.escape(constraints_version())
    spelled = [
        path
        for path in tracked
        if path not in allowed
        and not path.startswith("tests/")
        and re.search(rf"torch\S*\W{version}\b", (ROOT / path).read_text(encoding="utf-8", errors="replace"))
    ]
    assert spelled == []


@pytest.mark.slow
def test_make_installs_the_pinned_torch():
    result = subprocess.run(
        [
            "make",
            "-s",
            "--no-print-directory",
            "--eval",
            "print-torch: ; @echo $(TORCH_VERSION)",
            "print-torch",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == constraints_version()
