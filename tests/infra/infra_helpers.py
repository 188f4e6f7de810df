"""Helpers for the infra tests: stack defaults, and programs run against the shared mocks."""

from __future__ import annotations

import functools
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from infra.offline import render as rendering
from infra.offline.mocks import OfflineMocks
from infra.offline.monitor import Registration, run_with_mocks
from infra.offline.render import Rendering
from infra.settings import Settings, build_settings, stack_files

ROOT = Path(__file__).resolve().parents[2]


def default_raw(**overrides: str) -> dict[str, str]:
    """Pulumi.yaml defaults as raw config strings, with overrides."""
    raw = {
        key: stack_files.to_config_string(entry["default"])
        for key, entry in stack_files.config_schema().items()
    }
    return {**raw, **overrides}


def make_settings(stack: str = "test", **overrides: str) -> Settings:
    """Settings from Pulumi.yaml defaults + overrides. A GPU stack needs the torch image (the
    ONNX one is CPU only): with `gpu` set and no `runtime`, runtime torch is pinned here."""
    if overrides.get("gpu") and "runtime" not in overrides:
        overrides = {**overrides, "runtime": "torch"}
    return build_settings(default_raw(**overrides), project="proj-test", region="europe-west1", stack=stack)


class Declared:
    """Resources a program declared, looked up by logical name or type."""

    def __init__(self, registrations: list[Registration], outputs: dict):
        self.registrations = registrations
        self.outputs = outputs

    def __getitem__(self, name: str) -> Registration:
        matches = [r for r in self.registrations if r.name == name]
        assert matches, f"no resource named {name!r}; have {[r.name for r in self.registrations]}"
        return matches[0]

    def of_type(self, resource_type: str) -> list[Registration]:
        return [r for r in self.registrations if r.type == resource_type]

    def names(self) -> set[str]:
        return {r.name for r in self.registrations}


def declare(program: Callable[[], None], config: dict[str, str] | None = None) -> Declared:
    """Run a function that declares resources, as `pulumi up` would, against the mocks."""
    monitor = run_with_mocks(
        program,
        project_name="serverless-qa",
        stack="test",
        mock=OfflineMocks(project="proj", region="europe-west1"),
        config=config or {},
    )
    return Declared(monitor.registrations, monitor.stack_outputs)


@functools.cache
def _rendered(stack: str, overrides: tuple[tuple[str, str], ...]) -> Rendering:
    return rendering.render(stack, dict(overrides))


def rendered(stack: str, overrides: dict[str, str] | None = None) -> Rendering:
    """`infra.offline.render.render`, cached per (stack, overrides) for the session: a render runs
    the whole program (the slow part of these tests) and most tests only read it. Treat the
    result as read-only."""
    return _rendered(stack, tuple(sorted((overrides or {}).items())))


def cli(*args: str) -> subprocess.CompletedProcess:
    """`python -m infra ARGS` in the repository, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "infra", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def by_type(resources: list[dict], resource_type: str) -> list[dict]:
    return [r for r in resources if r["type"] == resource_type]
