"""`make help` and the examples in the package READMEs match what the tools do."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow  # runs make and a whole render


def test_make_help_is_aligned_and_in_plain_words():
    lines = subprocess.run(
        ["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    ).stdout.splitlines()
    assert len(lines) >= 10
    columns = {re.match(r"  make \S+\s+", line).end() for line in lines}
    assert len(columns) == 1, lines  # every description starts in the same column
    width = max(len(line.split()[1]) for line in lines)
    assert columns == {len("  make ") + width + 2}
    text = "\n".join(lines)
    assert not re.search(r"[Ii]ssue \d|#\d", text)


def test_bench_readme_knative_host_is_the_rendered_service():
    rendered = subprocess.run(
        [sys.executable, "-m", "infra", "render", "gke", "--format", "yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout
    services = [
        d for d in yaml.safe_load_all(rendered) if d and d.get("apiVersion") == "serving.knative.dev/v1"
    ]
    (service,) = services
    name, namespace = service["metadata"]["name"], service["metadata"]["namespace"]
    readme = (ROOT / "bench" / "README.md").read_text()
    hosts = re.findall(r"Host: ([\w.-]+)", readme) + re.findall(
        r"http://([\w-]+\.[\w-]+)\.INGRESS_IP", readme
    )
    assert hosts
    for host in hosts:
        assert host.startswith(f"{name}.{namespace}"), (host, name, namespace)
