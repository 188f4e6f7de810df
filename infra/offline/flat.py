"""Nested resource inputs as dotted keys (`template.containers[0].image`), for the render's
review tables and the diff between two renders."""

from __future__ import annotations

from typing import Any


def _named(items: list[Any]) -> list[str] | None:
    """The items' `name`s when every item is a mapping with its own name (env vars, ports, …)."""
    names = [item.get("name") if isinstance(item, dict) else None for item in items]
    if names and all(isinstance(n, str) and n for n in names) and len(set(names)) == len(names):
        return names
    return None


def flatten(value: Any, prefix: str = "", *, by_name: bool = False) -> dict[str, Any]:
    """Nested inputs as dotted keys. With `by_name`, list items that have a name are keyed by it
    (`envs[name=MODEL_DIR].value`, not `envs[3].value`), so a diff shows which variable changed
    and an inserted item does not show every later one as changed."""
    if isinstance(value, dict):
        items: dict[str, Any] = {}
        for key in sorted(value):
            items.update(flatten(value[key], f"{prefix}.{key}" if prefix else key, by_name=by_name))
        return items or {prefix: {}}
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        names = _named(value) if by_name else None
        labels = [f"name={n}" for n in names] if names else range(len(value))
        items = {}
        for label, item in zip(labels, value, strict=True):
            items.update(flatten(item, f"{prefix}[{label}]", by_name=by_name))
        return items
    return {prefix: value}
