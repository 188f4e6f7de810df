"""The rollout command's arguments and its choice of metrics source."""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

import pytest

from infra.rollout import cli
from infra.rollout.metrics import CloudMonitoringSource, ProbeSource

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(("text", "seconds"), [("90", 90.0), ("90s", 90.0), ("5m", 300.0), ("1.5h", 5400.0)])
def test_durations(text, seconds):
    assert cli.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["5 minutes", "-1s", "m", ""])
def test_bad_durations_say_what_is_valid(text):
    with pytest.raises(argparse.ArgumentTypeError, match=r"use e\.g\. 90s, 5m or 1h"):
        cli.parse_duration(text)


def test_steps_are_ascending_percentages_below_100():
    assert cli.parse_steps("10,50") == (10, 50)
    for bad in ("50,10", "10,10", "0,50", "10,100", "ten", ""):
        with pytest.raises(argparse.ArgumentTypeError, match="ascending percentages 1…99"):
            cli.parse_steps(bad)


def test_metrics_source_prefers_cloud_monitoring_on_cloud_run_when_a_token_is_at_hand(monkeypatch):
    probes = ProbeSource()
    config = {"platform": "cloudrun", "gcp:project": "proj", "serviceName": "qa"}
    monkeypatch.setattr(cli, "access_token", lambda: "token")
    source = cli.metrics_source("auto", config, probes)
    assert isinstance(source, CloudMonitoringSource) and (source.project, source.service) == ("proj", "qa")
    assert cli.metrics_source("auto", {**config, "platform": "knative"}, probes) is probes
    assert cli.metrics_source("probes", config, probes) is probes
    monkeypatch.setattr(cli, "access_token", lambda: None)
    assert cli.metrics_source("auto", config, probes) is probes
    with pytest.raises(cli.StackError, match="no access token"):
        cli.metrics_source("monitoring", config, probes)


def test_the_commands_are_on_python_m_infra():
    parser = argparse.ArgumentParser()
    cli.add_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["rollout", "prod", "--steps", "10,50", "--soak", "2m"])
    assert (args.stack, args.steps, args.soak, args.metrics) == ("prod", (10, 50), 120.0, "auto")
    assert parser.parse_args(["rollback", "prod"]).stack == "prod"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (["rollout", "STEPS=10,50", "SOAK=2m"], '-m infra rollout "prod" --steps "10,50" --soak "2m"'),
        (["rollout"], '-m infra rollout "prod"'),
        (["rollback"], '-m infra rollback "prod"'),
    ],
)
def test_make_targets_pass_their_arguments(target, expected):
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", "-o", ".venv/.installed", *target, "STACK=prod"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    command = result.stdout.strip().splitlines()[-1]
    assert command.rstrip().endswith(expected)
    assert "pulumi stack select" in result.stdout  # the same backend set-up as make up
