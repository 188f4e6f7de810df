"""A stack's configuration read from Pulumi.yaml and Pulumi.<stack>.yaml as the Pulumi CLI reads it.

Rules followed (pulumi/pulumi sdk/go/common: workspace loaders, config.ParseKey, config.Value):
- a scalar reaches the program as its literal text; one that the CLI's two readings turn into
  different text (`010`, `1e3`, `True`) is refused (`yaml_text` has the sources); lists and maps
  are JSON; `{secure: …}` is a secret;
- a value of a declared type is checked as the CLI checks it before `pulumi up` runs the program
  (an integer is ASCII digits, a boolean is `true` or `false`, an array is a YAML list);
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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from infra.settings import yaml_nodes as nodes
from infra.settings.config_keys import closest, did_you_mean, key_problem, parse_key
from infra.settings.project_file import (
    ROOT,
    Project,
    config_keys,
    config_schema,
    project_name,
    read_project,
    to_config_string,
    type_problem,
)
from infra.settings.schema import LIST_EXAMPLES
from infra.settings.yaml_nodes import SECRET_PLACEHOLDER, ConfigFileError, ConfigValue

# Offline there is no project to ask for; resource names and URLs need one all the same.
PLACEHOLDER_PROJECT = "example-project"
# What a ProjectStack (Pulumi.<stack>.yaml) holds besides config; anything else the CLI ignores.
STACK_FILE_KEYS = ("config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment")
# Config that cannot be read as the CLI would; one line per problem, for the user.
StackConfigError = ConfigFileError

__all__ = [
    "PLACEHOLDER_PROJECT",
    "ROOT",
    "SECRET_PLACEHOLDER",
    "ConfigValue",
    "Project",
    "StackConfig",
    "StackConfigError",
    "available_stacks",
    "config_keys",
    "config_schema",
    "override_values",
    "parse_overrides",
    "project_name",
    "read_project",
    "read_stack",
    "resolve",
    "stack_config",
    "to_config_string",
]


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
    seen: dict[str, int] = {}
    for key_node, value_node in nodes.config_section(top, path, problems):
        at, text = nodes.where(path, key_node), nodes.name_of(key_node)
        parsed = parse_key(text)
        if parsed is None:
            suggestion = (
                f"{project.name}:{text}" if text in project.schema else _suggest_qualified(text, project)
            )
            problems.append(
                f"{at}: {text}: not a configuration key — keys are namespace:name{did_you_mean(suggestion)}"
            )
            continue
        full = f"{parsed[0]}:{parsed[1]}"
        if full in seen:
            problems.append(nodes.repeated(at, full, seen[full]))
        seen[full] = nodes.line(key_node)
        if problem := key_problem(*parsed, project.name, project.schema):
            problems.append(f"{at}: {full}: {problem}")
        elif value := nodes.config_value(value_node, full, at, problems, path):
            declaration = project.schema.get(parsed[1], {}) if parsed[0] == project.name else {}
            if problem := type_problem(declaration, value):
                problems.append(
                    f"{at}: {full}: {_shown(value)} is {problem}{_example(parsed[1], declaration)}"
                )
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


def _suggest_qualified(name: str, project: Project) -> str | None:
    suggestion = closest(name, project.schema)
    return f"{project.name}:{suggestion}" if suggestion else None


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
        lambda: override_values(overrides or {}, project),
    ):
        try:
            merged.update(layer())
        except StackConfigError as error:
            problems += error.problems
    if problems:
        raise StackConfigError(problems)
    return stack_config(project.name, stack, merged, placeholder_project)


def stack_config(
    project: str, stack: str, merged: Mapping[str, ConfigValue], placeholder_project: bool = True
) -> StackConfig:
    """Values by qualified key, in key order, as `pulumi.Config` gets them."""
    merged = dict(merged)
    if placeholder_project and not (merged.get("gcp:project") and merged["gcp:project"].text):
        merged["gcp:project"] = ConfigValue(PLACEHOLDER_PROJECT, where="offline placeholder")
    ordered = dict(sorted(merged.items()))
    return StackConfig(
        project,
        stack,
        {k: v.text for k, v in ordered.items()},
        tuple(k for k, v in ordered.items() if v.secret),
        {k: v.where for k, v in ordered.items()},
    )
