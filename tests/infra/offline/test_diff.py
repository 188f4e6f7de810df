"""Render diffs for pull-request review."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from infra_helpers import rendered

from infra.offline import render as rendering
from infra.offline.diff import _MISSING, diff_renders, to_markdown

ROOT = Path(__file__).resolve().parents[3]


def _json(stack: str, **overrides: str) -> list[dict]:
    return json.loads(rendering.to_json(rendered(stack, overrides)))


def test_identical_renders_have_no_change():
    base = _json("dev")
    diff = diff_renders(base, base)
    assert diff.empty
    assert to_markdown("dev", diff) == "### `dev`: no infrastructure change\n"


def test_changes_additions_and_deletions_are_listed_per_field():
    base, head = _json("dev"), _json("dev", cpu="4", memory="8Gi", public="false")
    diff = diff_renders(base, head)
    assert diff.added == []
    assert [name.split(" ")[0] for name in diff.removed] == ["qa-dev-invoker-allusers-6a549f"]
    changes = {
        key: (old, new) for key, old, new in diff.changed["qa-dev-service (gcp:cloudrunv2/service:Service)"]
    }
    assert changes["template.containers[name=model].resources.limits.cpu"] == ("2", "4")
    assert changes["template.containers[name=model].resources.limits.memory"] == ("3Gi", "8Gi")
    assert changes["labels.access"] == ("public", "private")
    text = to_markdown("dev", diff)
    assert text.startswith("### `dev`: 0 to add, 1 to change, 1 to delete")
    assert "| `template.containers[name=model].resources.limits.cpu` | `2` | `4` |" in text


@pytest.mark.slow
def test_cli_treats_a_missing_base_as_a_new_stack(tmp_path):
    head = tmp_path / "head.json"
    prod = rendered("prod")
    head.write_text(rendering.to_json(prod))
    result = subprocess.run(
        [sys.executable, "-m", "infra", "diff", str(tmp_path / "none.json"), str(head), "--stack", "prod"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"### `prod`: {len(prod.resources)} to add, 0 to change, 0 to delete")


@pytest.mark.slow
def test_cli_reports_unreadable_input_in_one_line(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = subprocess.run(
        [sys.executable, "-m", "infra", "diff", str(bad), str(bad)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: cannot compare") and result.stderr.count("\n") == 1


def test_env_vars_are_named_and_an_inserted_one_shifts_nothing():
    base = _json("dev")
    head = json.loads(json.dumps(base))
    service = next(r for r in head if r["type"] == "gcp:cloudrunv2/service:Service")
    envs = service["inputs"]["template"]["containers"][0]["envs"]
    log_level = next(e for e in envs if e["name"] == "LOG_LEVEL")
    log_level["value"] = "DEBUG"
    envs.insert(0, {"name": "EXTRA", "value": "1"})
    ((name, changes),) = diff_renders(base, head).changed.items()
    assert name == "qa-dev-service (gcp:cloudrunv2/service:Service)"
    prefix = "template.containers[name=model].envs"
    assert {key: (old, new) for key, old, new in changes} == {
        f"{prefix}[name=LOG_LEVEL].value": ("INFO", "DEBUG"),
        f"{prefix}[name=EXTRA].name": (_MISSING, "EXTRA"),  # added; no later variable moves
        f"{prefix}[name=EXTRA].value": (_MISSING, "1"),
    }
