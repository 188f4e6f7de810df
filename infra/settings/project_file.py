"""Pulumi.yaml as the Pulumi CLI reads it: the project name, its config declarations (type,
default, description) and the values it sets for other namespaces (`gcp:region: us-central1`).

A declaration's default must be of its declared type, as the CLI's project validation requires.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from infra.settings import yaml_nodes as nodes
from infra.settings.config_keys import closest, did_you_mean, parse_key
from infra.settings.yaml_nodes import ConfigFileError, ConfigValue
from infra.settings.yaml_text import NULL, config_text, go_format_v

ROOT = Path(__file__).resolve().parents[2]  # the project directory (Pulumi.yaml)
# A project config declaration's fields (Pulumi.yaml `config:` entries).
DECLARATION_FIELDS = ("type", "default", "value", "description", "secret", "items")
SCHEMA_TYPES = {"string": str, "integer": int, "boolean": bool, "array": list}


@dataclass(frozen=True)
class Project:
    name: str
    schema: dict[str, dict[str, Any]]  # project key → its declaration (type, default, description)
    values: dict[str, ConfigValue]  # qualified key → default or value from Pulumi.yaml


def _project_file(root: Path) -> Path:
    return root / "Pulumi.yaml"


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
        where = nodes.where(path, key_node)
        text = nodes.key_text(key_node)
        parsed = parse_key(text) if ":" in text else (name, text)
        if parsed is None:
            problems.append(f"{where}: {text}: not a config key (namespace:name, or a name of this project)")
            continue
        full = f"{parsed[0]}:{parsed[1]}"
        if full in seen:
            problems.append(nodes.repeated(path.name, key_node, full, seen[full]))
        seen[full] = nodes.line(key_node)
        declared = nodes.decode(entry, path.name, problems)
        if isinstance(declared, dict) and not nodes.is_secure(declared):
            _declaration(
                declared=declared,
                key=parsed,
                project=name,
                where=where,
                problems=problems,
                schema=schema,
                values=values,
            )
        elif (value := nodes.config_value(declared, full, where, problems)) is not None:
            values[full] = value  # shorthand `key: value`, as RewriteShorthandConfigValues reads it
            if parsed[0] == name:
                schema[parsed[1]] = {"value": declared}
    if problems:
        raise ConfigFileError(problems)
    return Project(name, schema, values)


def _declaration(
    *,
    declared: dict[str, Any],
    key: tuple[str, str],
    project: str,
    where: str,
    problems: list[str],
    schema: dict[str, dict[str, Any]],
    values: dict[str, ConfigValue],
) -> None:
    full = f"{key[0]}:{key[1]}"
    if unknown := [f for f in declared if f not in DECLARATION_FIELDS]:
        problems.append(
            f"{where}: {full}: unknown field {unknown[0]!r}"
            + did_you_mean(closest(unknown[0], DECLARATION_FIELDS))
        )
    declared_type = declared.get("type")
    if key[0] != project and declared_type is not None:
        problems.append(
            f"{where}: {full}: only this project's keys declare a type; give {key[0]} keys a value"
        )
    if declared_type is not None and declared_type not in SCHEMA_TYPES:
        problems.append(f"{where}: {full}: type {declared_type!r} is not one of {', '.join(SCHEMA_TYPES)}")
    for source in ("default", "value"):
        if source not in declared:
            continue
        raw = declared[source]
        expected = SCHEMA_TYPES.get(declared_type or "")
        if expected and (not isinstance(raw, expected) or (expected is int and isinstance(raw, bool))):
            problems.append(f"{where}: {full}: {source} {config_text(raw)!r} is not of type {declared_type}")
        value = (
            nodes.config_value(raw, full, where, problems)
            if isinstance(raw, (list, dict)) or raw is NULL
            else ConfigValue(to_config_string(raw), where=where)
        )
        if value is not None:
            values[full] = value
    if key[0] == project:
        schema[key[1]] = declared


def read_project(root: Path = ROOT) -> Project:
    path = _project_file(root)
    if not path.exists():
        raise ConfigFileError([f"{path}: no Pulumi.yaml here"])
    stat = path.stat()
    return _read_project_cached(path, (stat.st_mtime_ns, stat.st_size))


def project_name(root: Path = ROOT) -> str:
    return read_project(root).name


def config_schema(root: Path = ROOT) -> dict[str, dict[str, Any]]:
    """This project's keys with their declarations (type, default, description) from Pulumi.yaml."""
    return read_project(root).schema


def to_config_string(value: Any) -> str:
    """A Pulumi.yaml `default:` (as read here) as the text the CLI hands the program."""
    if isinstance(value, (list, dict)) or value is NULL:
        return config_text(value)
    return value if isinstance(value, str) else go_format_v(value)
