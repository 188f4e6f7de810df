"""A stack's configuration as the Pulumi CLI would hand it to the program, read from the files.

Pulumi.yaml defaults, then Pulumi.<stack>.yaml values, then `--set key=value` overrides — the
same precedence as the CLI. Used by the offline render (which feeds the result to the SDK's
mocks) and by `reader.settings_from_stack_files`. One module on purpose: it is the part that
must follow the Pulumi CLI's reading of stack files, and can be replaced as a whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]  # the project directory (Pulumi.yaml)
# Offline there is no project to ask for; resource names and URLs need one all the same.
PLACEHOLDER_PROJECT = "example-project"
SECRET_PLACEHOLDER = "[secret]"


class StackConfigError(ValueError):
    """A stack or override that cannot be read; the message is one line for the user."""


@dataclass(frozen=True)
class StackConfig:
    project_name: str
    stack: str
    values: dict[str, str]  # fully qualified keys ("serverless-qa:cpu", "gcp:region") → raw strings
    secret_keys: tuple[str, ...]

    def project_values(self) -> dict[str, str]:
        prefix = f"{self.project_name}:"
        return {k[len(prefix) :]: v for k, v in self.values.items() if k.startswith(prefix)}


@cache
def _project_file(root: Path = ROOT) -> dict[str, Any]:
    return yaml.safe_load((root / "Pulumi.yaml").read_text())


def project_name(root: Path = ROOT) -> str:
    return _project_file(root)["name"]


def config_schema(root: Path = ROOT) -> dict[str, dict[str, Any]]:
    """Project keys with their schema (type, default, description) from Pulumi.yaml."""
    return {k: v for k, v in _project_file(root)["config"].items() if ":" not in k and isinstance(v, dict)}


def available_stacks(root: Path = ROOT) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


def to_config_string(value: Any) -> str:
    """How the Pulumi engine passes a YAML value to the program: scalars as text, rest as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def _qualify(key: str, name: str) -> str:
    return key if ":" in key else f"{name}:{key}"


def resolve(
    stack: str,
    overrides: Mapping[str, str] | None = None,
    *,
    root: Path = ROOT,
    placeholder_project: bool = True,
) -> StackConfig:
    name = project_name(root)
    values: dict[str, str] = {}
    for key, entry in _project_file(root).get("config", {}).items():
        if isinstance(entry, dict) and "default" in entry:
            values[_qualify(key, name)] = to_config_string(entry["default"])
        elif isinstance(entry, dict) and "value" in entry:
            values[_qualify(key, name)] = to_config_string(entry["value"])
        elif not isinstance(entry, dict):
            values[_qualify(key, name)] = to_config_string(entry)

    stack_file = root / f"Pulumi.{stack}.yaml"
    if not stack_file.exists():
        stacks = ", ".join(available_stacks(root))
        raise StackConfigError(f"stack {stack!r}: no {stack_file.name}; stacks here: {stacks}")
    secret_keys = []
    for key, value in ((yaml.safe_load(stack_file.read_text()) or {}).get("config") or {}).items():
        full = _qualify(key, name)
        if isinstance(value, dict) and set(value) == {"secure"}:
            # Encrypted with the stack's secrets provider: unreadable offline, and never printed.
            values[full] = SECRET_PLACEHOLDER
            secret_keys.append(full)
        else:
            values[full] = to_config_string(value)

    schema = config_schema(root)
    for key, value in (overrides or {}).items():
        full = _qualify(key, name)
        if full.startswith(f"{name}:") and full.split(":", 1)[1] not in schema:
            raise StackConfigError(f"--set {key}: unknown key; project keys are {', '.join(sorted(schema))}")
        values[full] = value

    if placeholder_project and not values.get("gcp:project"):
        values["gcp:project"] = PLACEHOLDER_PROJECT
    return StackConfig(name, stack, dict(sorted(values.items())), tuple(sorted(secret_keys)))


def parse_overrides(pairs: Iterable[str]) -> dict[str, str]:
    """`key=value` strings from the command line; a list value is given as JSON."""
    overrides = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise StackConfigError(f"--set {pair!r}: expected key=value, e.g. --set cpu=4")
        overrides[key.strip()] = value
    return overrides
