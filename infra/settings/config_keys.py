"""Which config keys something reads: this project's declared keys, a provider's, the engine's.

Keys are `namespace:name`, as the CLI's config.ParseKey reads them. A key nothing reads is a
problem with the closest known key offered ("did you mean …").
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from infra.pulumi_internals import provider_config_keys  # the SDKs list their keys nowhere else

# Namespaces read by the engine itself rather than a provider (pulumi:tags, …): any name goes.
OPEN_NAMESPACES = ("pulumi",)
PROVIDERS = ("gcp", "docker", "kubernetes", "command")  # the SDKs this program declares with


def parse_key(text: str) -> tuple[str, str] | None:
    """config.ParseKey: `namespace:name`, or `namespace:config:name`; None when neither."""
    parts = text.split(":")
    if len(parts) == 2:
        return parts[0], parts[1]
    if len(parts) == 3 and parts[1] == "config" and parts[0] and parts[2]:
        return parts[0], parts[2]
    return None


def closest(word: str, candidates: Iterable[str]) -> str | None:
    options = list(candidates)
    lowered = {option.lower(): option for option in options}
    if word.lower() in lowered:
        return lowered[word.lower()]
    match = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[match[0]] if match else None


def did_you_mean(suggestion: str | None) -> str:
    return f" — did you mean {suggestion}?" if suggestion else ""


def key_problem(namespace: str, name: str, project_name: str, schema: Mapping[str, Any]) -> str | None:
    """Why nothing would read `namespace:name`, or None when something does."""
    if namespace in OPEN_NAMESPACES or (namespace == project_name and name in schema):
        return None
    if namespace == project_name:
        suggestion = closest(name, schema)
        if not suggestion:
            return (
                "unknown key — not declared in Pulumi.yaml "
                "(`.venv/bin/python -m infra config-table` lists them)"
            )
        return "unknown key" + did_you_mean(f"{project_name}:{suggestion}")
    known = provider_config_keys(namespace) if namespace else None
    if known is None:
        return _unknown_namespace(namespace, name, project_name, schema)
    if name in known:
        return None
    suggestion = closest(name, known)
    return f"unknown {namespace} setting" + did_you_mean(f"{namespace}:{suggestion}" if suggestion else None)


def _unknown_namespace(namespace: str, name: str, project_name: str, schema: Mapping[str, Any]) -> str:
    if name in schema:
        suggestion = f"{project_name}:{name}"
    else:
        suggestion = (f"{project_name}:{s}" if (s := closest(name, schema)) else None) or next(
            (f"{ns}:{name}" for ns in _installed_providers() if name in (provider_config_keys(ns) or ())),
            None,
        )
    return (
        f"unknown namespace {namespace!r} (this project is {project_name}; providers: "
        f"{', '.join(_installed_providers())})" + did_you_mean(suggestion)
    )


@cache
def _installed_providers() -> tuple[str, ...]:
    return tuple(ns for ns in PROVIDERS if provider_config_keys(ns) is not None)
