"""The README as users and reviewers rely on it: generated tables current, commands real."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from infra.offline import docs
from policy.docs import BEGIN, END, rule_table

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
MAKEFILE = (ROOT / "Makefile").read_text()


def test_readme_shows_the_test_command_ci_runs():
    assert "make test" in README
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_config_table_is_generated_from_pulumi_yaml():
    assert docs.readme_table(ROOT / "README.md") == docs.config_table(), (
        "stale: run python -m infra config-table --write README.md"
    )


def test_policy_rule_table_is_the_catalog():
    begin, end = README.index(BEGIN), README.index(END) + len(END)
    assert README[begin:end] == rule_table(), "stale: paste the output of python -m policy rules"


def test_every_make_target_the_readme_uses_exists():
    used = set(re.findall(r"\bmake ([a-z][a-z-]*)", README))
    defined = set(re.findall(r"^([a-z][a-z-]*):", MAKEFILE, re.M))
    assert used, "the README shows no make commands"
    assert used <= defined, f"README uses undefined targets: {sorted(used - defined)}"


MODULE_COMMANDS = sorted(
    set(re.findall(r"python -m (infra|policy|bench|service\.bootstrap) ([a-z][a-z-]*)", README))
)


@pytest.mark.parametrize(("module", "command"), MODULE_COMMANDS)
def test_every_python_m_subcommand_the_readme_uses_exists(module, command):
    result = subprocess.run(
        [sys.executable, "-m", module, command, "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout


def test_linked_files_exist():
    for target in re.findall(r"\]\((?!https?://|#)([^)#]+)", README):
        assert (ROOT / target).exists(), target
