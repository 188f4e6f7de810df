"""Pulumi.yaml as the Pulumi CLI reads it: the project name, its config declarations (type,
default, description), the values it sets for other namespaces (`gcp:region: us-central1`), and
the CLI's check of a stack value against its declared type.

A declaration's default must be of its declared type, as the CLI's project validation requires.
Defaults and shorthand values reach the program as `fmt.Sprintf("%v")` of their go-yaml value, or
JSON for lists and maps (pulumi/pulumi pkg/workspace/config.go:179 `createConfigValue`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from infra.settings import yaml_nodes as nodes
from infra.settings.config_keys import closest, did_you_mean, parse_key
from infra.settings.yaml_nodes import ConfigFileError, ConfigValue
from infra.settings.yaml_text import NULL, go_json, key_text

ROOT = Path(__file__).resolve().parents[2]  # the project directory (Pulumi.yaml)
# A project config declaration's fields (Pulumi.yaml `config:` entries).
DECLARATION_FIELDS = ("type", "default", "value", "description", "secret", "items")
SCHEMA_TYPES = {"string": str, "integer": int, "boolean": bool, "array": list}
# strconv.Atoi, as the CLI checks an integer-typed stack value (ASCII digits, no spaces).
GO_INT = re.compile(r"[+-]?[0-9]+")


@dataclass(frozen=True)
class Project:
    name: str
    schema: dict[str, dict[str, Any]]  # project key → its declaration (type, default, description)
    values: dict[str, ConfigValue]  # qualified key → default or value from Pulumi.yaml


@cache
def _read_project_cached(path: Path, stamp: tuple[int, int]) -> Project:
    problems: list[str] = []
    top = nodes.top_mapping(nodes.compose(path), path)
    name = next((v.value for k, v in top.value if k.value == "name" and isinstance(v, yaml.ScalarNode)), "")
    if not name:
        raise ConfigFileError([f"{path.name}: no project `name:`"])
    schema: dict[str, dict[str, Any]] = {}
    values: dict[str, ConfigValue] = {}
    seen: dict[str, int] = {}
    for key_node, entry in nodes.config_section(top, path, problems):
        at, text = nodes.where(path, key_node), nodes.name_of(key_node)
        parsed = parse_key(text) if ":" in text else (name, text)
        if parsed is None:
            problems.append(f"{at}: {text}: not a config key (namespace:name, or a name of this project)")
            continue
        full = f"{parsed[0]}:{parsed[1]}"
        if full in seen:
            problems.append(nodes.repeated(at, full, seen[full]))
        seen[full] = nodes.line(key_node)
        declared = nodes.decode(entry, problems, path)
        if not isinstance(declared, dict) or nodes.is_secure(declared):
            declared = {"value": declared}  # shorthand `key: value` (RewriteShorthandConfigValues)
        _declaration(declared, parsed, name, at, problems)
        if parsed[0] == name:
            schema[parsed[1]] = declared
        for source in (
            "value",
            "default",
        ):  # the default wins where both are given (pkg/workspace/config.go:334)
            if source in declared and (value := _project_value(declared[source], full, at, problems)):
                values[full] = value
    if problems:
        raise ConfigFileError(problems)
    return Project(name, schema, values)


def _declaration(
    declared: dict[str, Any], key: tuple[str, str], project: str, at: str, problems: list[str]
) -> None:
    full = f"{key[0]}:{key[1]}"
    if unknown := [f for f in declared if f not in DECLARATION_FIELDS]:
        problems.append(
            f"{at}: {full}: unknown field {unknown[0]!r}"
            + did_you_mean(closest(unknown[0], DECLARATION_FIELDS))
        )
    declared_type = declared.get("type")
    if key[0] != project and declared_type is not None:
        problems.append(f"{at}: {full}: only this project's keys declare a type; give {key[0]} keys a value")
    if declared_type is not None and declared_type not in SCHEMA_TYPES:
        problems.append(f"{at}: {full}: type {declared_type!r} is not one of {', '.join(SCHEMA_TYPES)}")
    expected = SCHEMA_TYPES.get(declared_type or "")
    for source in ("default", "value"):
        raw = declared.get(source, NULL)
        if (
            raw is not NULL
            and expected
            and (not isinstance(raw, expected) or isinstance(raw, bool) != (expected is bool))
        ):
            problems.append(
                f"{at}: {full}: {source} {to_config_string(raw)!r} is not of type {declared_type}"
            )


def _project_value(raw: Any, key: str, at: str, problems: list[str]) -> ConfigValue | None:
    if raw is NULL:
        problems.append(f'{at}: {key}: no value — write "" for an empty string')
        return None
    if nodes.is_secure(raw):
        return ConfigValue(nodes.SECRET_PLACEHOLDER, secret=True, where=at)
    return ConfigValue(to_config_string(raw), where=at, object=isinstance(raw, (list, dict)))


def type_problem(declaration: dict[str, Any], value: ConfigValue) -> str | None:
    """Why the CLI refuses this stack value for its declared type (pkg/workspace/config.go:119
    `validateStackConfigValue`, sdk/go/common/workspace/project.go:771 `ValidateConfigValue`)."""
    declared = declaration.get("type")
    if value.secret or declared is None:
        return None
    content: Any = json.loads(value.text) if value.object else value.text
    items = (declaration.get("items") or {}).get("type")
    ok = {
        "string": isinstance(content, str),
        "integer": isinstance(content, str) and GO_INT.fullmatch(content) is not None,
        "boolean": content in ("true", "false"),
        "array": isinstance(content, list)
        and all(isinstance(i, SCHEMA_TYPES.get(items, object)) for i in content),
    }.get(declared, True)
    name = f"array<{items}>" if declared == "array" and items else declared
    return None if ok else f"not of type {name}; the Pulumi CLI refuses it (\"must be of type '{name}'\")"


def read_project(root: Path = ROOT) -> Project:
    path = root / "Pulumi.yaml"
    if not path.exists():
        raise ConfigFileError([f"{path}: no Pulumi.yaml here"])
    stat = path.stat()
    return _read_project_cached(path, (stat.st_mtime_ns, stat.st_size))


def project_name(root: Path = ROOT) -> str:
    return read_project(root).name


def config_schema(root: Path = ROOT) -> dict[str, dict[str, Any]]:
    """This project's keys with their declarations (type, default, description) from Pulumi.yaml."""
    return read_project(root).schema


def config_keys(root: Path = ROOT) -> tuple[str, ...]:
    """Every key this project declares, in Pulumi.yaml's order: the keys the settings read."""
    return tuple(read_project(root).schema)


def to_config_string(value: Any) -> str:
    """A Pulumi.yaml `default:` (as read here) as the text the CLI hands the program."""
    if isinstance(value, (list, dict)) or value is NULL:
        return go_json(value)
    return key_text(value)  # fmt's %v: true/false, decimal integers, strings as they are
