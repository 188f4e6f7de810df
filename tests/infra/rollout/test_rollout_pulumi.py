"""rollout / rollback through pulumi.automation (the real SDK, shelling out to `pulumi`) against
the stand-in CLI `fake_pulumi.py`, whose `up` runs the real program offline. The gate is stubbed
here (its decisions are tested against real services in test_rollout_gate.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from rollout_faults import MODEL_REVISION

from infra.rollout.driver import PulumiDriver
from infra.rollout.gate import Verdict
from infra.rollout.orchestrate import rollback, rollout

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[3]
FAKE = Path(__file__).resolve().parent / "fake_pulumi.py"
NEW_IMAGE = "us-central1-docker.pkg.dev/example-project/qa-images/qa@sha256:" + "b" * 64
PASS = Verdict(True, "gate passed: stubbed")


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    work = tmp_path / "project"
    work.mkdir()
    for name in ("Pulumi.yaml", "Pulumi.prod.yaml"):
        shutil.copy(ROOT / name, work / name)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "pulumi"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" "$@"\n')
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_PULUMI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.delenv("FAKE_PULUMI_INTERRUPT_UP", raising=False)
    return work


def driver(project: Path, lines: list[str] | None = None) -> PulumiDriver:
    say = lines.append if lines is not None else (lambda _: None)
    return PulumiDriver("prod", project, say=say, progress=lambda _: None)


def stack_file(project: Path) -> dict:
    return yaml.safe_load((project / "Pulumi.prod.yaml").read_text())["config"]


def calls(project: Path) -> list[list[str]]:
    path = project.parent / "home" / "calls.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def deployed(project: Path) -> str:
    """First deploy, then a new image: returns the revision serving now."""
    outcome = rollout(driver(project), gate=lambda o: PASS, canary=lambda o, p: PASS, say=lambda _: None)
    assert outcome.code == 0 and outcome.line.startswith("first deploy: qa-r"), outcome.line
    serving = driver(project).outputs()["servingRevision"]
    driver(project).set_config({"image": NEW_IMAGE})  # `pulumi config set image …`: a new build
    return serving


def test_happy_path_gates_steps_and_promotes(project):
    old = deployed(project)
    seen = []
    outcome = rollout(
        driver(project),
        gate=lambda o: (
            seen.append(("gate", o["candidateUrl"], o["servingRevision"], o["modelRevision"])) or PASS
        ),
        canary=lambda o, p: seen.append(("canary", p, o["candidatePercent"])) or PASS,
        steps=(10, 50),
        say=lambda _: None,
    )
    assert outcome.code == 0, outcome.line
    outputs = driver(project).outputs()
    new = outputs["newRevision"]
    assert new != old and outcome.line.startswith(f"promoted {new}: 100 %")
    assert seen[0][:3] == ("gate", outputs["url"].replace("https://", "https://candidate---"), old)
    assert seen[1:] == [("canary", 10, 10), ("canary", 50, 50)]
    assert (outputs["servingRevision"], outputs["previousRevision"], outputs["candidateUrl"]) == (
        new,
        old,
        "",
    )
    config = stack_file(project)
    assert config["serverless-qa:servingRevision"] == new
    assert config["serverless-qa:previousRevision"] == old
    assert config["serverless-qa:candidatePercent"] == "0"
    # The SDK's own calls: select, read config, set each key, then `up` (never a preview).
    made = calls(project)
    assert ["stack", "select", "--stack", "prod"] in made
    assert any(c[:2] == ["config", "--show-secrets"] and "--json" in c for c in made)
    assert [
        "config",
        "set",
        "serverless-qa:candidatePercent",
        "--plaintext",
        "--stack",
        "prod",
        "--",
        "50",
    ] in made
    ups = [c for c in made if c[0] == "up"]
    assert len(ups) == 5 and all(c[:3] == ["up", "--yes", "--skip-preview"] and "--message" in c for c in ups)
    assert ups[-1][ups[-1].index("--message") + 1] == f"rollout: promote {new}"


def test_gate_failure_holds_the_candidate_and_the_stack_file_keeps_traffic(project):
    old = deployed(project)
    outcome = rollout(
        driver(project),
        gate=lambda o: Verdict(False, "5xx: 3 of 40 candidate responses"),
        canary=None,
        say=print,
    )
    outputs = driver(project).outputs()
    assert outcome.code == 1
    assert (
        outcome.line
        == f"held {outputs['newRevision']} at 0 %, {old} keeps 100 %: 5xx: 3 of 40 candidate responses"
    )
    assert (outputs["servingRevision"], outputs["candidatePercent"]) == (old, 0)
    assert stack_file(project)["serverless-qa:servingRevision"] == old


def test_rollback_after_promotion(project):
    old = deployed(project)
    rollout(driver(project), gate=lambda o: PASS, canary=lambda o, p: PASS, say=lambda _: None)
    new = driver(project).outputs()["newRevision"]
    outcome = rollback(driver(project), say=lambda _: None)
    assert outcome.code == 0 and outcome.line.startswith(f"rolled back: {old} takes 100 %")
    outputs = driver(project).outputs()
    assert (outputs["servingRevision"], outputs["candidateRevision"], outputs["previousRevision"]) == (
        old,
        new,
        "",
    )
    assert stack_file(project)["serverless-qa:servingRevision"] == old


def test_interrupted_promotion_resumes(project, monkeypatch):
    old = deployed(project)
    monkeypatch.setenv("FAKE_PULUMI_INTERRUPT_UP", "3")  # 1 first deploy, 2 candidate, 3 promotion
    outcome = rollout(driver(project), gate=lambda o: PASS, canary=lambda o, p: PASS, say=lambda _: None)
    assert (outcome.code, outcome.line) == (1, "held: update canceled")
    assert driver(project).outputs()["servingRevision"] == old  # the last completed update
    monkeypatch.delenv("FAKE_PULUMI_INTERRUPT_UP")
    lines = []
    outcome = rollout(
        driver(project), gate=lambda o: Verdict(False, "not asked"), canary=None, say=lines.append
    )
    new = driver(project).outputs()["newRevision"]
    assert outcome.code == 0 and lines == [f"resuming the promotion of {new}"]
    assert driver(project).outputs()["previousRevision"] == old


def test_a_held_stack_lock_fails_in_one_line_with_traffic_unchanged(project):
    old = deployed(project)
    (project.parent / "home" / "lock").write_text("4242")
    outcome = rollout(driver(project), gate=lambda o: PASS, canary=lambda o, p: PASS, say=lambda _: None)
    assert outcome.code == 1
    assert (
        outcome.line
        == "held: another update holds the stack lock (`pulumi cancel` if it is stale): traffic unchanged"
    )
    assert driver(project).outputs()["servingRevision"] == old


def test_the_command_line_prints_one_line(project):
    result = subprocess.run(
        [sys.executable, "-m", "infra", "rollback", "prod", "--work-dir", str(project)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "nothing to roll back to: the stack has no previous revision"


def test_without_a_pulumi_cli_the_command_says_so(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}  # no `pulumi` anywhere
    result = subprocess.run(
        [sys.executable, "-m", "infra", "rollout", "prod"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == "the Pulumi CLI is not installed: https://www.pulumi.com/docs/iac/download-install/"
    )


def _cli(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "infra", *args, "prod", "--work-dir", str(project)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_whole_command_with_the_real_gate_against_local_services(project, services, monkeypatch):
    """`python -m infra rollout` end to end: stand-in CLI, real program, real gate, real services
    (their URLs stand in for the revisions' own)."""
    urls = project.parent / "urls.json"
    monkeypatch.setenv("FAKE_PULUMI_URLS", str(urls))
    urls.write_text(json.dumps({"url": services["serving"].url, "candidateUrl": services["good"].url}))
    driver(project).set_config({"modelRevision": MODEL_REVISION})
    first = _cli(project, "rollout")
    assert first.returncode == 0 and first.stdout.strip().splitlines()[-1].startswith("first deploy: qa-r")

    driver(project).set_config({"image": NEW_IMAGE})
    # Latency does not decide here (inf): this test is about the wiring; the latency decision is
    # tested on fixed samples in test_rollout_latency.py.
    good = _cli(
        project, "rollout", "--steps", "10", "--soak", "1s", "--metrics", "probes", "--latency-budget", "inf"
    )
    assert good.returncode == 0, good.stderr
    lines = good.stdout.strip().splitlines()
    assert lines[-1].startswith("promoted qa-r") and any("gate passed" in line for line in lines)
    assert any(" at 10 %: error ratio 0/" in line and "(gate probes)" in line for line in lines)

    urls.write_text(json.dumps({"url": services["serving"].url, "candidateUrl": services["other"].url}))
    driver(project).set_config({"image": NEW_IMAGE.replace("b" * 64, "d" * 64)})
    bad = _cli(project, "rollout", "--latency-budget", "inf")
    assert bad.returncode == 1
    (line,) = bad.stderr.strip().splitlines()
    assert line.startswith("held qa-r") and ": wrong answers: " in line
    assert driver(project).outputs()["candidatePercent"] == 0
