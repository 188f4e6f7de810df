"""YAML files as nodes with line numbers, decoded the way go-yaml v2 decodes into interface{}.

PyYAML parses (its grammar is libyaml's, as go-yaml's is); `yaml_text` resolves scalars by
go-yaml's rules. Every problem is one line, `FILE:LINE: …`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from infra.settings.yaml_text import NULL, config_text, go_format_v, resolve_plain

SECRET_PLACEHOLDER = "[secret]"


class ConfigFileError(ValueError):
    """A file that cannot be read as the Pulumi CLI reads it; one line per problem."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class ConfigValue:
    text: str  # what the program gets from pulumi.Config
    secret: bool = False
    where: str = ""  # "Pulumi.dev.yaml:4", "Pulumi.yaml:12" or "--set"


class _Loader(yaml.SafeLoader):
    """PyYAML's parser (libyaml's grammar, like go-yaml's), remembering which scalars had a tag."""

    def compose_scalar_node(self, anchor: str | None) -> yaml.ScalarNode:
        explicit = self.peek_event().tag not in (None, "!")
        node = super().compose_scalar_node(anchor)
        node.explicit_tag = explicit  # type: ignore[attr-defined]
        return node


def line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def compose(path: Path) -> yaml.Node | None:
    data = path.read_bytes().removeprefix(b"\xef\xbb\xbf")  # the CLI strips a UTF-8 BOM too
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigFileError([f"{path.name}: not UTF-8 text (byte {error.start})"]) from None
    try:
        return yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{path.name}:{mark.line + 1}" if mark else path.name
        problem = error.problem or error.context or "unreadable"
        if error.context and error.problem:
            problem += f" ({error.context}"
            if error.context_mark and error.context_mark.line != mark.line:
                problem += f" on line {error.context_mark.line + 1}"
            problem += ")"
        raise ConfigFileError([f"{where}: invalid YAML: {problem}"]) from None
    except yaml.YAMLError as error:
        raise ConfigFileError([f"{path.name}: invalid YAML: {error}"]) from None


def scalar(node: yaml.ScalarNode) -> Any:
    if node.style is not None:  # quoted or block: a string, always
        return node.value
    if getattr(node, "explicit_tag", False) and node.tag == "tag:yaml.org,2002:str":
        return node.value
    return resolve_plain(node.value)


def entries(node: yaml.MappingNode, where: str, problems: list[str]) -> list[tuple[yaml.Node, yaml.Node]]:
    """A mapping's (key, value) pairs with `<<` merges expanded, in order."""
    pairs: list[tuple[yaml.Node, yaml.Node]] = []
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode) and key.tag == "tag:yaml.org,2002:merge":
            merged = value.value if isinstance(value, yaml.SequenceNode) else [value]
            for item in merged:
                if isinstance(item, yaml.MappingNode):
                    pairs += entries(item, where, problems)
                else:
                    problems.append(f"{where}:{line(item)}: `<<` merges a mapping, not this")
        else:
            pairs.append((key, value))
    return pairs


def decode(node: yaml.Node, where: str, problems: list[str]) -> Any:
    """A YAML node as go-yaml v2 decodes it into interface{} (maps with text keys)."""
    if isinstance(node, yaml.ScalarNode):
        return scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return [decode(item, where, problems) for item in node.value]
    result: dict[str, Any] = {}
    seen: dict[str, int] = {}
    for key, value in entries(node, where, problems):
        name = key_text(key)
        if name in seen:
            problems.append(repeated(where, key, name, seen[name]))
        seen[name] = line(key)
        result[name] = decode(value, where, problems)
    return result


def key_text(node: yaml.Node) -> str:
    if isinstance(node, yaml.ScalarNode):
        return node.value if node.style is not None else go_format_v(scalar(node))
    return yaml.serialize(node).strip()


def repeated(where: str, key: yaml.Node, name: str, first: int) -> str:
    return (
        f"{where}:{line(key)}: {name}: set again (first on line {first}); the Pulumi CLI would "
        "silently keep this last one — keep one"
    )


def is_secure(value: Any) -> bool:
    return isinstance(value, dict) and list(value) == ["secure"] and isinstance(value["secure"], str)


def contains_secure(value: Any) -> bool:
    if is_secure(value):
        return True
    if isinstance(value, dict):
        return any(contains_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_secure(v) for v in value)
    return False


def config_value(value: Any, key: str, where: str, problems: list[str]) -> ConfigValue | None:
    if value is NULL:
        problems.append(
            f'{where}: {key}: no value — write {key}: "" for an empty string, or remove the line '
            "to use the default"
        )
        return None
    if contains_secure(value):
        # Encrypted with the stack's secrets provider: unreadable offline, and never printed.
        return ConfigValue(SECRET_PLACEHOLDER, secret=True, where=where)
    try:
        return ConfigValue(config_text(value), where=where)
    except ValueError as error:
        problems.append(f"{where}: {key}: {error} — the Pulumi CLI refuses it; quote it for a string")
        return None


def top_mapping(node: yaml.Node | None, path: Path) -> yaml.MappingNode:
    if node is None:
        return yaml.MappingNode("tag:yaml.org,2002:map", [])
    if not isinstance(node, yaml.MappingNode):
        raise ConfigFileError([f"{path.name}:{line(node)}: expected a mapping of settings at the top"])
    return node


def config_section(
    top: yaml.MappingNode, path: Path, problems: list[str]
) -> list[tuple[yaml.Node, yaml.Node]]:
    found = [(k, v) for k, v in top.value if isinstance(k, yaml.ScalarNode) and k.value == "config"]
    if not found:
        return []
    key, section = found[-1]
    if isinstance(section, yaml.ScalarNode) and scalar(section) is NULL:
        return []
    if not isinstance(section, yaml.MappingNode):
        kind = "a list" if isinstance(section, yaml.SequenceNode) else "a single value"
        problems.append(
            f"{path.name}:{line(key)}: config: must be a mapping of `key: value` lines, not {kind}"
        )
        return []
    return entries(section, path.name, problems)


def where(path: Path, node: yaml.Node) -> str:
    return f"{path.name}:{line(node)}"
