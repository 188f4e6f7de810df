"""The API document and the service agree: schemathesis `--checks all` against the live server.

schemathesis (a pinned dev dependency) reads /openapi.json from `python -m service` and sends
what the document allows and what it forbids: every response must be documented, match its
schema and content type, never be a 5xx; schema-valid data must be accepted and invalid data
refused. A fixed seed and no example database make the run repeatable. The 413 size limits
the document states in words rather than in JSON Schema: tests/service/schemathesis.toml.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from service_helpers import ServiceProcess

pytestmark = pytest.mark.slow  # a real gunicorn server and a few hundred requests

CONFIG = Path(__file__).with_name("schemathesis.toml")
SEED = 1


def test_schemathesis_finds_no_disagreement(tiny_model_dir, tmp_path):
    with ServiceProcess(tiny_model_dir, tmp_path / "service.log") as server:
        server.wait_ready()
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "schemathesis.cli",
                "--config-file",
                str(CONFIG),
                "run",
                "--checks",
                "all",
                "--seed",
                str(SEED),
                "--max-examples",
                "50",
                "--generation-database",
                "none",
                # Hypothesis's check on how fast it generates data: a timing of the (shared,
                # loaded) machine, not a property of the API.
                "--suppress-health-check",
                "too_slow",
                "--report-dir",
                str(tmp_path / "report"),
                server.url + "/openapi.json",
            ],
            check=False,  # the assertion below shows schemathesis's report
            cwd=tmp_path,  # schemathesis keeps a cache in its working directory
            capture_output=True,
            text=True,
            timeout=900,
        )
        log = server.log()
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "Traceback" not in log
