"""A stack's configuration read from Pulumi.yaml and Pulumi.<stack>.yaml as the Pulumi CLI reads it.

Rules followed (pulumi/pulumi sdk/go/common: workspace loaders, config.ParseKey, config.Value):
- a scalar reaches the program as its literal text; one that the CLI's two readings turn into
  different text (`010`, `1e3`, `True`) is refused (`yaml_text` has the sources); lists and maps
  are JSON; `{secure: …}` is a secret;
- Pulumi.yaml declares the project's keys (type, default, description) and may set values for
  other namespaces (`gcp:region: us-central1`); a declaration's default must be of its declared
  type, as the CLI's project validation requires. Defaults and shorthand values reach the program
  as `fmt.Sprintf("%v")` of their go-yaml value, or JSON for lists and maps
  (pkg/workspace/config.go:179 `createConfigValue`);
- a stack value of a declared type is checked as the CLI checks it before `pulumi up` runs the
  program (an integer is ASCII digits, a boolean is `true` or `false`, an array is a YAML list);
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

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from infra.settings import yaml_nodes as nodes
from infra.settings.config_keys import closest, did_you_mean, key_problem, parse_key, suggest
from infra.settings.parse import GO_INT
from infra.settings.schema import LIST_EXAMPLES
from infra.settings.yaml_nodes import SECRET_PLACEHOLDER, ConfigValue
from infra.settings.yaml_nodes import ConfigFileError as StackConfigError
from infra.settings.yaml_text import NULL, key_text

ROOT = Path(__file__).resolve().parents[2]  # the project directory (Pulumi.yaml)
# Offline there is no project to ask for; resource names and URLs need one all the same.
PLACEHOLDER_PROJECT = "example-project"
# What a ProjectStack (Pulumi.<stack>.yaml) holds besides config; anything else the CLI ignores.
STACK_FILE_KEYS = ("config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment")
# A project config declaration's fields (Pulumi.yaml `config:` entries).
DECLARATION_FIELDS = ("type", "default", "value", "description", "secret", "items")
SCHEMA_TYPES = {"string": str, "integer": int, "boolean": bool, "array": list}


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


def read_project(root: Path = ROOT) -> Project:
    path = root / "Pulumi.yaml"
    if not path.exists():
        raise StackConfigError([f"{path}: no Pulumi.yaml here"])
    stat = path.stat()
    return _read_project_cached(path, (stat.st_mtime_ns, stat.st_size))


@cache
def _read_project_cached(path: Path, stamp: tuple[int, int]) -> Project:
    problems: list[str] = []
    top = nodes.top_mapping(nodes.compose(path), path)
    name = next((v.value for k, v in top.value if k.value == "name" and isinstance(v, yaml.ScalarNode)), "")
    if not name:
        raise StackConfigError([f"{path.name}: no project `name:`"])
    schema: dict[str, dict[str, Any]] = {}
    values: dict[str, ConfigValue] = {}
    for at, text, key, entry in _config_entries(top, path, problems, project=name):
        if key is None:
            problems.append(f"{at}: {text}: not a config key (namespace:name, or a name of this project)")
            continue
        declared = nodes.decode(entry, problems, path)
        if not isinstance(declared, dict) or nodes.is_secure(declared):
            declared = {"value": declared}  # shorthand `key: value` (RewriteShorthandConfigValues)
        _check_declaration(declared, key, name, at, problems)
        if key[0] == name:
            schema[key[1]] = declared
        # The default wins where both are given (pkg/workspace/config.go:334).
        for source in ("value", "default"):
            if source in declared and (value := _project_value(declared[source], key, at, problems)):
                values[f"{key[0]}:{key[1]}"] = value
    if problems:
        raise StackConfigError(problems)
    return Project(name, schema, values)


def _config_entries(
    top: yaml.MappingNode, path: Path, problems: list[str], project: str | None
) -> Iterator[tuple[str, str, tuple[str, str] | None, yaml.Node]]:
    """The `config:` entries as (where, key as written, (namespace, name) or None, value node). A
    key without a namespace is `project`'s where one is given; a key set twice is a problem."""
    seen: dict[str, int] = {}
    for key_node, value_node in nodes.config_section(top, path, problems):
        at, text = nodes.where(path, key_node), nodes.name_of(key_node)
        key = parse_key(text) if project is None or ":" in text else (project, text)
        if key:
            full = f"{key[0]}:{key[1]}"
            if full in seen:
                problems.append(nodes.repeated(at, full, seen[full]))
            seen[full] = nodes.line(key_node)
        yield at, text, key, value_node


def _check_declaration(
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


def _project_value(raw: Any, key: tuple[str, str], at: str, problems: list[str]) -> ConfigValue | None:
    if raw is NULL:
        problems.append(f'{at}: {key[0]}:{key[1]}: no value — write "" for an empty string')
        return None
    if nodes.is_secure(raw):
        return ConfigValue(SECRET_PLACEHOLDER, secret=True, where=at)
    return ConfigValue(to_config_string(raw), where=at, object=isinstance(raw, (list, dict)))


def config_schema(root: Path = ROOT) -> dict[str, dict[str, Any]]:
    """This project's keys with their declarations (type, default, description) from Pulumi.yaml."""
    return read_project(root).schema


def to_config_string(value: Any) -> str:
    """A Pulumi.yaml `default:` (as read here) as the text the CLI hands the program: fmt's %v
    (true/false, decimal integers, strings as they are), JSON for lists and maps."""
    return "null" if value is NULL else key_text(value)


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


def available_stacks(root: Path = ROOT) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


def read_stack(project: Project, stack: str, root: Path = ROOT) -> dict[str, ConfigValue]:
    """The stack file's config values by qualified key; StackConfigError lists every problem."""
    path = root / f"Pulumi.{stack}.yaml"
    if not path.exists():
        raise StackConfigError(
            [f"stack {stack!r}: no {path.name}; stacks here: {', '.join(available_stacks(root))}"]
        )
    problems: list[str] = []
    top = nodes.top_mapping(nodes.compose(path), path)
    for key_node, _ in top.value:
        text = nodes.name_of(key_node)
        if text in STACK_FILE_KEYS:
            continue
        at = nodes.where(path, key_node)
        if ":" in text or text in project.schema:
            problems.append(
                f"{at}: {text}: outside `config:` — the Pulumi CLI ignores it; indent it under config:"
            )
        else:
            hint = did_you_mean(closest(text, STACK_FILE_KEYS))
            problems.append(f"{at}: {text}: not a stack-file setting (the Pulumi CLI ignores it){hint}")
    values: dict[str, ConfigValue] = {}
    for at, text, key, value_node in _config_entries(top, path, problems, project=None):
        if key is None:
            suggestion = suggest(project.name, text, project.schema)
            problems.append(
                f"{at}: {text}: not a configuration key — keys are namespace:name{did_you_mean(suggestion)}"
            )
            continue
        full = f"{key[0]}:{key[1]}"
        if problem := key_problem(*key, project.name, project.schema):
            problems.append(f"{at}: {full}: {problem}")
        elif value := nodes.config_value(value_node, full, at, problems, path):
            declaration = project.schema.get(key[1], {}) if key[0] == project.name else {}
            if problem := type_problem(declaration, value):
                problems.append(f"{at}: {full}: {_shown(value)} is {problem}{_example(key[1], declaration)}")
            values[full] = value
    if problems:
        raise StackConfigError(problems)
    return values


def _shown(value: ConfigValue) -> str:
    return value.text if value.object else json.dumps(value.text, ensure_ascii=False)


def _example(key: str, declaration: dict) -> str:
    if declaration.get("type") != "array":
        return ""
    return f"; write a YAML list, e.g. {key}: [{LIST_EXAMPLES.get(key, 'a')}]"


def parse_overrides(pairs: Iterable[str]) -> dict[str, str]:
    """`key=value` strings from the command line (`--set`); a list value is given as JSON."""
    overrides, pairs = {}, list(pairs)
    for index, pair in enumerate(pairs):
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            following = pairs[index + 1] if index + 1 < len(pairs) else ""
            if not sep and following and "=" not in following:  # as `pulumi config set cpu 4` is written
                raise StackConfigError(
                    [f"--set {pair} {following}: expected key=value — write --set {pair}={following}"]
                )
            raise StackConfigError([f"--set {pair!r}: expected key=value, e.g. --set cpu=4"])
        overrides[key.strip()] = value
    return overrides


def override_values(overrides: Mapping[str, str], project: Project) -> dict[str, ConfigValue]:
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
        raise StackConfigError(problems)
    return values


def resolve(stack: str, overrides: Mapping[str, str] | None = None, *, root: Path = ROOT) -> StackConfig:
    """Pulumi.yaml, then the stack file, then `--set`: what `pulumi.Config` would return."""
    project = read_project(root)
    problems: list[str] = []
    merged = dict(project.values)
    for layer in (
        lambda: read_stack(project, stack, root),
        lambda: override_values(overrides or {}, project),
    ):
        try:
            merged.update(layer())
        except StackConfigError as error:
            problems += error.problems
    if problems:
        raise StackConfigError(problems)
    return stack_config(project.name, stack, merged)


def stack_config(project: str, stack: str, merged: Mapping[str, ConfigValue]) -> StackConfig:
    """Values by qualified key, in key order, as `pulumi.Config` gets them."""
    merged = dict(merged)
    if not (merged.get("gcp:project") and merged["gcp:project"].text):
        merged["gcp:project"] = ConfigValue(PLACEHOLDER_PROJECT, where="offline placeholder")
    ordered = dict(sorted(merged.items()))
    return StackConfig(
        project,
        stack,
        {k: v.text for k, v in ordered.items()},
        tuple(k for k, v in ordered.items() if v.secret),
        {k: v.where for k, v in ordered.items()},
    )


# Every project key: Pulumi.yaml's `config:` declarations, in their order (one source).
CONFIG_KEYS = tuple(config_schema())
