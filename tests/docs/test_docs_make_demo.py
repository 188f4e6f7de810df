"""`make demo`, the README's one command for the local main job, run as written in a fresh copy
of the repository (docs_helpers): it generates a model, bakes it as the dev stack's image does,
serves it with `python -m service`, asks it the example question, loads it, draws the plots,
stops the service and says so. DURATION (a documented make variable) is shortened to 3 s."""

from __future__ import annotations

import json
import re

import pytest
from docs_helpers import ROOT, fresh_copy, shell, user_env

from bench.models import image_pair
from qaclient.payloads import DEFAULT_PAYLOAD
from service.bake.manifest import AUTO_PRECISION, SUPPORTED


def test_the_readme_shows_make_demo_beside_make_test():
    first_screen = "\n".join((ROOT / "README.md").read_text().splitlines()[:40])
    assert re.search(r"^make test\b.*\n^make demo\b", first_screen, re.M)


@pytest.mark.slow  # generates and bakes a model, runs a server and a load
def test_make_demo_does_the_local_main_job_end_to_end(tmp_path):
    repo = fresh_copy(tmp_path / "repo")
    done = shell("make demo", repo, user_env(DURATION="3"), timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    runtime, precision = image_pair()
    steps = done.stdout[done.stdout.index("## What the demo did") :]
    # In order: bake as the image does, serve as the image does, ask, load, stop.
    expected = [
        rf"1\. generated a random-weight tiny checkpoint .* baked for {runtime} {precision} by python -m service\.bake",
        r"2\. started python -m service \(gunicorn, as the image runs it\) at http://127\.0\.0\.1:\d+: ready in",
        rf"3\. asked {re.escape(json.dumps(DEFAULT_PAYLOAD['question']))} about .*: answered \".*\" \(score",
        r"4\. loaded it at 5 requests/s for 3 s: the report above, plots in bench/out/demo/",
        r"5\. stopped the service",
    ]
    lines = [line for line in steps.splitlines()[1:] if line]
    assert len(lines) == len(expected), steps
    for line, pattern in zip(lines, expected, strict=True):
        assert re.match(pattern, line), (pattern, line)
    # The report is headed with what it measured: the baked runtime and precision, from /ready
    # (a stack's `auto` is resolved by the service at start: one of the runtime's precisions).
    precisions = SUPPORTED[runtime] if precision == AUTO_PRECISION else (precision,)
    assert re.search(rf"Measured: runtime {runtime}, precision ({'|'.join(precisions)}),", done.stdout)
    out = repo / "bench" / "out" / "demo"
    report = json.loads((out / "report.json").read_text())
    assert report["requests"]["ok"] == report["requests"]["scheduled"] > 0
    for plot in ("latency_timeline.png", "latency_distribution.png"):
        assert (out / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Stopped: nothing answers on the port the demo served on any more.
    port = re.search(r"127\.0\.0\.1:(\d+)", steps).group(1)
    assert shell(f"curl -s -m 2 localhost:{port}/health", repo, user_env(), timeout=30).returncode != 0
