"""YAML files as nodes with line numbers; values as the text the Pulumi CLI passes (`yaml_text`).

PyYAML composes the nodes (its grammar is libyaml's, as go-yaml's is) with no implicit
resolution: a scalar's value is its literal text, as `BaseLoader` gives it. Every problem is one
line, `FILE:LINE: …`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from infra.settings.yaml_text import NULL, UnreadableError, go_json, key_text, resolve_plain

SECRET_PLACEHOLDER = "[secret]"
_STR = "tag:yaml.org,2002:str"


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
    object: bool = False  # a list or a map, passed as JSON


class _Loader(yaml.BaseLoader):
    """Literal text for every scalar (no implicit types), remembering which had an explicit tag."""

    def compose_scalar_node(self, anchor: str | None) -> yaml.ScalarNode:
        explicit = self.peek_event().tag not in (None, "!")
        node = super().compose_scalar_node(anchor)
        node.explicit_tag = explicit  # type: ignore[attr-defined]
        return node


def line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def where(path: Path, node: yaml.Node) -> str:
    return f"{path.name}:{line(node)}"


def compose(path: Path) -> yaml.Node | None:
    data = path.read_bytes().removeprefix(b"\xef\xbb\xbf")  # the CLI strips a UTF-8 BOM too
    try:
        return yaml.compose(data.decode("utf-8"), Loader=_Loader)
    except UnicodeDecodeError as error:
        raise ConfigFileError([f"{path.name}: not UTF-8 text (byte {error.start})"]) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "unreadable"
        if error.context and error.problem:
            on = mark and error.context_mark and error.context_mark.line != mark.line
            problem += f" ({error.context}" + (f" on line {error.context_mark.line + 1})" if on else ")")
        raise ConfigFileError(
            [f"{path.name}:{mark.line + 1 if mark else '?'}: invalid YAML: {problem}"]
        ) from None
    except yaml.YAMLError as error:  # the reader's own errors (a control character) have no mark
        raise ConfigFileError([f"{path.name}: invalid YAML: {' '.join(str(error).split())}"]) from None


def is_plain(node: yaml.Node) -> bool:
    """A scalar go-yaml resolves (unquoted, not a block, no `!!str`)."""
    return (
        isinstance(node, yaml.ScalarNode) and node.style is None and not getattr(node, "explicit_tag", False)
    )


def typed(node: yaml.ScalarNode) -> Any:
    """A scalar as go-yaml v3 decodes it into `any`: what the CLI reads inside lists and maps."""
    if getattr(node, "explicit_tag", False):  # `!!str 010` is text; `!!int 010` is resolved
        return node.value if node.tag == _STR else resolve_plain(node.value)
    return node.value if node.style is not None else resolve_plain(node.value)


def entries(node: yaml.MappingNode, problems: list[str], path: Path) -> list[tuple[yaml.Node, yaml.Node]]:
    """A mapping's (key, value) pairs with `<<` merges expanded, in order."""
    pairs: list[tuple[yaml.Node, yaml.Node]] = []
    for key, value in node.value:
        if is_plain(key) and key.value == "<<":
            for item in value.value if isinstance(value, yaml.SequenceNode) else [value]:
                if isinstance(item, yaml.MappingNode):
                    pairs += entries(item, problems, path)
                else:
                    problems.append(f"{where(path, item)}: `<<` merges a mapping, not this")
        else:
            pairs.append((key, value))
    return pairs


def decode(node: yaml.Node, problems: list[str], path: Path) -> Any:
    """A node as go-yaml v3 decodes it into `any` (map keys as text)."""
    if isinstance(node, yaml.ScalarNode):
        return typed(node)
    if isinstance(node, yaml.SequenceNode):
        return [decode(item, problems, path) for item in node.value]
    result: dict[str, Any] = {}
    seen: dict[str, int] = {}
    for key, value in entries(node, problems, path):
        name = name_of(key)
        if name in seen:
            problems.append(repeated(where(path, key), name, seen[name]))
        seen[name] = line(key)
        result[name] = decode(value, problems, path)
    return result


def name_of(node: yaml.Node) -> str:
    return key_text(typed(node)) if isinstance(node, yaml.ScalarNode) else yaml.serialize(node).strip()


def repeated(at: str, name: str, first: int) -> str:
    return (
        f"{at}: {name}: set again (first on line {first}); the Pulumi CLI would silently keep this "
        "last one — keep one"
    )


def is_secure(value: Any) -> bool:
    return isinstance(value, dict) and list(value) == ["secure"] and isinstance(value["secure"], str)


def _contains_secure(value: Any) -> bool:
    if isinstance(value, dict):
        return is_secure(value) or any(_contains_secure(v) for v in value.values())
    return isinstance(value, list) and any(_contains_secure(v) for v in value)


def config_value(node: yaml.Node, key: str, at: str, problems: list[str], path: Path) -> ConfigValue | None:
    """The text every Pulumi CLI since v3.50 passes for this value, or None with a problem line."""
    try:
        if isinstance(node, yaml.ScalarNode):
            value = typed(node)
            if value is NULL:
                problems.append(
                    f'{at}: {key}: no value — write {key}: "" for an empty string, '
                    "or remove the line to use the default"
                )
                return None
            if not isinstance(value, str) and (text := go_json(value)) != node.value:
                problems.append(
                    f"{at}: {key}: {node.value} reads as {text} with the Pulumi CLI 3.88 and later and as "
                    f'"{node.value}" before — quote it ("{node.value}") or write {text}'
                )
                return None
            return ConfigValue(node.value, where=at)
        value = decode(node, problems, path)
        if _contains_secure(value):
            # Encrypted with the stack's secrets provider: unreadable offline, and never printed.
            return ConfigValue(SECRET_PLACEHOLDER, secret=True, where=at, object=not is_secure(value))
        return ConfigValue(go_json(value), where=at, object=True)
    except UnreadableError as error:
        shown = node.value if isinstance(node, yaml.ScalarNode) else "a value inside it"
        problems.append(f"{at}: {key}: {shown}: {error} — quote it")
        return None


def top_mapping(node: yaml.Node | None, path: Path) -> yaml.MappingNode:
    if node is None:
        return yaml.MappingNode("tag:yaml.org,2002:map", [])
    if not isinstance(node, yaml.MappingNode):
        raise ConfigFileError([f"{where(path, node)}: expected a mapping of settings at the top"])
    return node


def config_section(
    top: yaml.MappingNode, path: Path, problems: list[str]
) -> list[tuple[yaml.Node, yaml.Node]]:
    found = [(k, v) for k, v in top.value if isinstance(k, yaml.ScalarNode) and k.value == "config"]
    if not found:
        return []
    key, section = found[-1]
    if is_plain(section) and resolve_plain(section.value) is NULL:
        return []
    if not isinstance(section, yaml.MappingNode):
        kind = "a list" if isinstance(section, yaml.SequenceNode) else "a single value"
        problems.append(f"{where(path, key)}: config: must be a mapping of `key: value` lines, not {kind}")
        return []
    return entries(section, problems, path)
