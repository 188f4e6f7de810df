"""A stack's configuration read from Pulumi.yaml and Pulumi.<stack>.yaml as the Pulumi CLI reads it.

Rules followed (pulumi/pulumi sdk/go/common: workspace loaders, config.ParseKey, config.Value):
- values are go-yaml v2 values turned into text (see `yaml_text`): `yes` is "true", `010` is "8",
  `1:00` stays "1:00", lists and maps are JSON; `{secure: …}` is a secret;
- keys are `namespace:name` (or the legacy `namespace:config:name`); in a stack file a key without
  a namespace is an error; in Pulumi.yaml it belongs to the project;
- precedence: Pulumi.yaml default or value, then the stack file, then `--set` (always a string,
  like a top-level `pulumi config set`).

Where the CLI is silent this reader is stricter, because each of these loses a setting without a
word: a repeated key (the CLI keeps the last), a key with no value, a key outside `config:`, and a
key nobody reads (a typo, a wrong namespace). Each is one line `FILE:LINE: key: problem`, with the
closest known key where there is one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from infra import yaml_nodes as nodes
from infra.stack_keys import closest, did_you_mean, key_problem, parse_key
from infra.yaml_nodes import ConfigFileError
from infra.yaml_text import NULL, config_text, go_format_v

ROOT = Path(__file__).resolve().parent.parent
# Offline there is no project to ask for; resource names and URLs need one all the same.
PLACEHOLDER_PROJECT = "example-project"
SECRET_PLACEHOLDER = "[secret]"
# What a ProjectStack (Pulumi.<stack>.yaml) holds besides config; anything else the CLI ignores.
STACK_FILE_KEYS = ("config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment")
# A project config declaration's fields (Pulumi.yaml `config:` entries).
DECLARATION_FIELDS = ("type", "default", "value", "description", "secret", "items")
SCHEMA_TYPES = {"string": str, "integer": int, "boolean": bool, "array": list}


# Config that cannot be read as the CLI would; one line per problem, for the user.
StackConfigError = StackFileError = ConfigFileError


@dataclass(frozen=True)
class ConfigValue:
    text: str  # what the program gets from pulumi.Config
    secret: bool = False
    where: str = ""  # "Pulumi.dev.yaml:4", "Pulumi.yaml:12" or "--set"


@dataclass(frozen=True)
class Project:
    name: str
    schema: dict[str, dict[str, Any]]  # project key → its declaration (type, default, description)
    values: dict[str, ConfigValue]  # qualified key → default or value from Pulumi.yaml


@dataclass(frozen=True)
class StackConfig:
    project_name: str
    stack: str
    values: dict[str, str]  # qualified keys ("serverless-qa:cpu", "gcp:region") → config text
    secret_keys: tuple[str, ...]
    origins: dict[str, str] = field(default_factory=dict)  # qualified key → where it was set

    def project_values(self) -> dict[str, str]:
        prefix = f"{self.project_name}:"
        return {k[len(prefix) :]: v for k, v in self.values.items() if k.startswith(prefix)}


def _config_value(value: Any, key: str, where: str, problems: list[str]) -> ConfigValue | None:
    if value is NULL:
        problems.append(
            f'{where}: {key}: no value — write {key}: "" for an empty string, or remove the line '
            "to use the default"
        )
        return None
    if nodes.contains_secure(value):
        # Encrypted with the stack's secrets provider: unreadable offline, and never printed.
        return ConfigValue(SECRET_PLACEHOLDER, secret=True, where=where)
    try:
        return ConfigValue(config_text(value), where=where)
    except ValueError as error:
        problems.append(f"{where}: {key}: {error} — the Pulumi CLI refuses it; quote it for a string")
        return None


# --- files --------------------------------------------------------------------------------------


def _top_mapping(node: yaml.Node | None, path: Path) -> yaml.MappingNode:
    if node is None:
        return yaml.MappingNode("tag:yaml.org,2002:map", [])
    if not isinstance(node, yaml.MappingNode):
        raise StackFileError([f"{path.name}:{nodes.line(node)}: expected a mapping of settings at the top"])
    return node


def _config_section(
    top: yaml.MappingNode, path: Path, problems: list[str]
) -> list[tuple[yaml.Node, yaml.Node]]:
    found = [(k, v) for k, v in top.value if isinstance(k, yaml.ScalarNode) and k.value == "config"]
    if not found:
        return []
    key, section = found[-1]
    if isinstance(section, yaml.ScalarNode) and nodes.scalar(section) is NULL:
        return []
    if not isinstance(section, yaml.MappingNode):
        kind = "a list" if isinstance(section, yaml.SequenceNode) else "a single value"
        problems.append(
            f"{path.name}:{nodes.line(key)}: config: must be a mapping of `key: value` lines, not {kind}"
        )
        return []
    return nodes.entries(section, path.name, problems)


def _file_problem_prefix(path: Path, node: yaml.Node) -> str:
    return f"{path.name}:{nodes.line(node)}"


def _project_file(root: Path) -> Path:
    return root / "Pulumi.yaml"


@cache
def _read_project_cached(path: Path, stamp: tuple[int, int]) -> Project:
    problems: list[str] = []
    top = _top_mapping(nodes.compose(path), path)
    name = next((v.value for k, v in top.value if k.value == "name" and isinstance(v, yaml.ScalarNode)), "")
    if not name:
        raise StackFileError([f"{path.name}: no project `name:`"])
    schema: dict[str, dict[str, Any]] = {}
    values: dict[str, ConfigValue] = {}
    seen: dict[str, int] = {}
    for key_node, entry in _config_section(top, path, problems):
        where = _file_problem_prefix(path, key_node)
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
        elif (value := _config_value(declared, full, where, problems)) is not None:
            values[full] = value  # shorthand `key: value`, as RewriteShorthandConfigValues reads it
            if parsed[0] == name:
                schema[parsed[1]] = {"value": declared}
    if problems:
        raise StackFileError(problems)
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
            _config_value(raw, full, where, problems)
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
        raise StackFileError([f"{path}: no Pulumi.yaml here"])
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


def available_stacks(root: Path = ROOT) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


def read_stack(project: Project, stack: str, root: Path = ROOT) -> dict[str, ConfigValue]:
    """The stack file's config values by qualified key; StackFileError lists every problem."""
    path = root / f"Pulumi.{stack}.yaml"
    if not path.exists():
        raise StackFileError(
            [f"stack {stack!r}: no {path.name}; stacks here: {', '.join(available_stacks(root))}"]
        )
    problems: list[str] = []
    top = _top_mapping(nodes.compose(path), path)
    for key_node, _ in top.value:
        text = nodes.key_text(key_node)
        if text in STACK_FILE_KEYS:
            continue
        where = _file_problem_prefix(path, key_node)
        hint = closest(text, STACK_FILE_KEYS)
        if ":" in text or text in project.schema:
            problems.append(
                f"{where}: {text}: outside `config:` — the Pulumi CLI ignores it; indent it under config:"
            )
        else:
            problems.append(
                f"{where}: {text}: not a stack-file setting (the Pulumi CLI ignores it){did_you_mean(hint)}"
            )
    values: dict[str, ConfigValue] = {}
    seen: dict[str, int] = {}
    for key_node, value_node in _config_section(top, path, problems):
        where = _file_problem_prefix(path, key_node)
        text = nodes.key_text(key_node)
        parsed = parse_key(text)
        if parsed is None:
            suggestion = f"{project.name}:{text}" if text in project.schema else None
            problems.append(
                f"{where}: {text}: not a configuration key — keys are namespace:name"
                + did_you_mean(suggestion or _suggest_qualified(text, project))
            )
            continue
        full = f"{parsed[0]}:{parsed[1]}"
        if full in seen:
            problems.append(nodes.repeated(path.name, key_node, full, seen[full]))
        seen[full] = nodes.line(key_node)
        if problem := key_problem(*parsed, project.name, project.schema):
            problems.append(f"{where}: {full}: {problem}")
            continue
        value = _config_value(nodes.decode(value_node, path.name, problems), full, where, problems)
        if value is not None:
            values[full] = value
    if problems:
        raise StackFileError(problems)
    return values


def _suggest_qualified(name: str, project: Project) -> str | None:
    suggestion = closest(name, project.schema)
    return f"{project.name}:{suggestion}" if suggestion else None


def parse_overrides(pairs: Iterable[str]) -> dict[str, str]:
    """`key=value` strings from the command line; a list value is given as JSON."""
    overrides = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise StackFileError([f"--set {pair!r}: expected key=value, e.g. --set cpu=4"])
        overrides[key.strip()] = value
    return overrides


def _override_values(overrides: Mapping[str, str], project: Project) -> dict[str, ConfigValue]:
    problems, values = [], {}
    for key, text in overrides.items():
        parsed = parse_key(key) if ":" in key else (project.name, key)
        if parsed is None:
            problems.append(f"--set {key}: not a configuration key — use name or namespace:name")
            continue
        if problem := key_problem(*parsed, project.name, project.schema):
            if parsed[0] == project.name and ":" not in key:
                problem = problem.replace(f"{project.name}:", "")
            problems.append(f"--set {key}: {problem}")
            continue
        values[f"{parsed[0]}:{parsed[1]}"] = ConfigValue(text, where="--set")
    if problems:
        raise StackFileError(problems)
    return values


def resolve(
    stack: str,
    overrides: Mapping[str, str] | None = None,
    *,
    root: Path = ROOT,
    placeholder_project: bool = True,
) -> StackConfig:
    """Pulumi.yaml, then the stack file, then `--set`: what `pulumi.Config` would return."""
    project = read_project(root)
    problems: list[str] = []
    merged = dict(project.values)
    for layer in (
        lambda: read_stack(project, stack, root),
        lambda: _override_values(overrides or {}, project),
    ):
        try:
            merged.update(layer())
        except StackFileError as error:
            problems += error.problems
    if problems:
        raise StackFileError(problems)
    if placeholder_project and not (merged.get("gcp:project") and merged["gcp:project"].text):
        merged["gcp:project"] = ConfigValue(PLACEHOLDER_PROJECT, where="offline placeholder")
    ordered = dict(sorted(merged.items()))
    return StackConfig(
        project.name,
        stack,
        {k: v.text for k, v in ordered.items()},
        tuple(k for k, v in ordered.items() if v.secret),
        {k: v.where for k, v in ordered.items()},
    )
