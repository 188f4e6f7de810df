"""Checks declared inputs against the provider schemas in shared/reference (pulumi-gcp,
pulumi-kubernetes, …): every input name exists where it is used, every required input is set.

Walks nested objects through `$ref`s into the schema's `types`; maps and free-form objects
(`additionalProperties`) are not descended into.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

SCHEMAS = Path("/work/shared/reference/provider-schemas.json")


@functools.cache
def schemas() -> dict[str, Any]:
    return json.loads(SCHEMAS.read_text())


def _resource_schema(resource_type: str) -> dict[str, Any] | None:
    provider = resource_type.split(":", 1)[0]
    return schemas()["providers"].get(provider, {}).get("resources", {}).get(resource_type)


def _type(provider: str, ref: str) -> dict[str, Any]:
    name = ref.removeprefix("#/types/")
    return schemas()["providers"][provider]["types"][name]


def problems(resource_type: str, inputs: dict[str, Any]) -> list[str]:
    schema = _resource_schema(resource_type)
    if schema is None:
        return [f"{resource_type}: not in the provider schemas"]
    provider = resource_type.split(":", 1)[0]
    found: list[str] = []
    missing = set(schema.get("requiredInputs", ())) - set(inputs)
    found += [f"{resource_type}: required input {name} not set" for name in sorted(missing)]
    _walk(provider, schema["inputProperties"], inputs, resource_type, found)
    return found


def _walk(
    provider: str, properties: dict[str, Any], value: dict[str, Any], path: str, found: list[str]
) -> None:
    for key, item in value.items():
        if key not in properties:
            found.append(f"{path}.{key}: no such input (valid: {', '.join(sorted(properties))})")
            continue
        _check(provider, properties[key], item, f"{path}.{key}", found)


def _check(provider: str, prop: dict[str, Any], item: Any, path: str, found: list[str]) -> None:
    if "$ref" in prop and isinstance(item, dict):
        target = _type(provider, prop["$ref"])
        if "properties" in target:
            _walk(provider, target["properties"], item, path, found)
    elif prop.get("type") == "array" and isinstance(item, list):
        for index, element in enumerate(item):
            _check(provider, prop.get("items", {}), element, f"{path}[{index}]", found)
    documented = prop.get("x-documentedValues")
    if documented and isinstance(item, str) and item not in documented:
        found.append(f"{path}: {item!r} is not one of {documented}")
