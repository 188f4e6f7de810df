"""`python -m infra render STACK --from-cli`: the config comes from the Pulumi CLI (through the
Automation API), here the stand-in `pulumi` of the rollout tests (tests/infra/rollout/
fake_pulumi.py, which answers `pulumi config --json` from the stack file, typing values with
PyYAML); no Pulumi CLI exists where these tests run."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from infra import __main__ as infra_cli
from infra.offline import from_cli
from infra.settings import StackConfigError

pytestmark = pytest.mark.slow  # each call starts the stand-in CLI
ROOT = Path(__file__).resolve().parents[3]
FAKE = ROOT / "tests" / "infra" / "rollout" / "fake_pulumi.py"


@pytest.fixture
def cli_on_path(tmp_path, monkeypatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "pulumi"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" "$@"\n')
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_PULUMI_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_a_shipped_stack_renders_the_same_from_the_cli_and_from_its_files(cli_on_path, capsys):
    assert infra_cli.main(["render", "prod", "--format", "json"]) == 0
    offline = json.loads(capsys.readouterr().out)
    assert infra_cli.main(["render", "prod", "--format", "json", "--from-cli"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == offline and err == ""
    asked = [json.loads(line) for line in (cli_on_path / "calls.jsonl").read_text().splitlines()]
    assert ["config", "--show-secrets", "--json", "--stack", "prod"] in asked


def test_where_the_cli_reads_a_value_otherwise_each_key_is_listed(cli_on_path, tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(ROOT / "Pulumi.yaml", project / "Pulumi.yaml")
    (project / "Pulumi.t.yaml").write_text("config:\n  serverless-qa:maxInstances: 010\n")
    config = from_cli.resolve("t", root=project)
    assert config.values["serverless-qa:maxInstances"] == "8"  # the stand-in types it, as CLI 3.88+ does
    assert config.values["serverless-qa:serviceName"] == "qa"  # Pulumi.yaml's default beneath
    assert from_cli.disagreements(config, root=project) == [
        "the offline reader refuses the stack: Pulumi.t.yaml:2: serverless-qa:maxInstances: 010 reads as 8 "
        'with the Pulumi CLI 3.88 and later and as "010" before — quote it ("010") or write 8'
    ]
    (project / "Pulumi.t.yaml").write_text("config:\n  serverless-qa:maxInstances: 5\n")
    config = from_cli.resolve("t", {"maxInstances": "7"}, root=project)
    assert config.values["serverless-qa:maxInstances"] == "7"  # --set wins, as offline
    assert from_cli.disagreements(config, {"maxInstances": "6"}, root=project) == [
        "serverless-qa:maxInstances: the Pulumi CLI passes '7', the offline reader '6'"
    ]


def test_without_a_cli_the_render_says_where_to_get_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))  # no `pulumi` anywhere
    with pytest.raises(StackConfigError, match=r"--from-cli: the Pulumi CLI is not installed: https://"):
        from_cli.resolve("dev")
    assert infra_cli.main(["render", "dev", "--from-cli"]) == 2
    assert capsys.readouterr().err.startswith("error: --from-cli: the Pulumi CLI is not installed")
