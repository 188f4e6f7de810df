"""The image's build context and pins: what service/.dockerignore keeps out of it, and that
every runtime's requirements are pinned as the repository pins them (service/Dockerfile's own
structure: test_service_dockerfile.py)."""

from __future__ import annotations

import fnmatch
import re
import subprocess
import sys
from pathlib import Path

import pytest

from service.bake.manifest import RUNTIMES

SERVICE = Path(__file__).resolve().parents[2] / "service"


def ignored(patterns: list[str], path: str) -> bool:
    """Approximates Docker's rules: a match on any leading directory excludes what is inside;
    `**/` matches at any depth; a later `!pattern` re-includes."""
    parts = path.split("/")
    result = False
    for raw in patterns:
        pattern = raw.removeprefix("!")
        if pattern.startswith("**/"):
            spans = ["/".join(parts[i:j]) for i in range(len(parts)) for j in range(i + 1, len(parts) + 1)]
            hit = any(fnmatch.fnmatch(span, pattern[3:]) for span in spans)
        else:
            hit = any(fnmatch.fnmatch("/".join(parts[: i + 1]), pattern) for i in range(len(parts)))
        if hit:
            result = not raw.startswith("!")
    return result


@pytest.mark.parametrize(
    ("path", "excluded"),
    [
        ("tests/test_x.py", True),
        (".venv/bin/python", True),
        ("__pycache__/app.cpython-311.pyc", True),
        ("qa/backends/__pycache__/x.pyc", True),
        ("models/qa/model.safetensors", True),
        (".git/HEAD", True),
        (".pytest_cache/v/cache", True),
        ("app.py", False),
        ("qa/backends/torch.py", False),
        ("requirements-onnx.txt", False),
        ("requirements-torch.txt", False),
        ("requirements-build.txt", False),
        ("bake/export.py", False),
        ("bake/manifest.py", False),
        ("qa/backends/onnx.py", False),
        ("models/qa/model.onnx", True),
        ("model-src/README.md", False),
        ("model-src/model.safetensors", False),
        ("model-src/sub/model.onnx", False),
        ("constraints.txt", False),
        ("bake/bootstrap.py", False),
        ("gunicorn.conf.py", False),
    ],
)
def test_dockerignore_keeps_the_context_to_the_app(path, excluded):
    patterns = [
        line.strip()
        for line in (SERVICE / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert ignored(patterns, path) is excluded


@pytest.mark.slow
def test_every_runtime_requirement_is_pinned_like_the_repository():
    result = subprocess.run(
        [sys.executable, str(SERVICE / "bake" / "lock_runtime.py"), "--check"],
        check=False,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    pins = (SERVICE / "constraints.txt").read_text(encoding="utf-8")
    for role in (
        "requirements-onnx.txt",
        "requirements-openvino.txt",
        "requirements-torch.txt",
        "requirements-build.txt",
    ):
        for line in (SERVICE / role).read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith(("#", "-r ")):
                assert re.search(rf"^{re.escape(line.strip())}$", pins, re.M | re.I), (role, line)
    # torch itself: test_service_torch_pin.py checks it against the repository's one pin.


def test_every_runtime_image_installs_what_the_shared_service_imports():
    """Each runtime's venv carries the web stack, metrics and tokenizer the shared code imports."""
    shared = {"flask", "gunicorn", "prometheus_client", "tokenizers", "numpy"}
    for runtime in RUNTIMES:
        text = (SERVICE / f"requirements-{runtime}.txt").read_text()
        names = {line.split("==")[0].strip().lower() for line in text.splitlines() if "==" in line}
        assert shared <= names, (runtime, sorted(shared - names))
