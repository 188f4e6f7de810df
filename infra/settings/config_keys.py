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
    """The candidate nearest `word`, case aside (`CPU` is `cpu`), or None when none is close."""
    lowered = {option.lower(): option for option in candidates}
    match = difflib.get_close_matches(word.lower(), lowered, n=1, cutoff=0.6)
    return lowered[match[0]] if match else None


def suggest(namespace: str, name: str, candidates: Iterable[str]) -> str | None:
    """`namespace:` and the candidate nearest `name`, or None when none is close."""
    return f"{namespace}:{match}" if (match := closest(name, candidates)) else None


def did_you_mean(suggestion: str | None) -> str:
    return f" — did you mean {suggestion}?" if suggestion else ""


def key_problem(namespace: str, name: str, project_name: str, schema: Mapping[str, Any]) -> str | None:
    """Why nothing would read `namespace:name`, or None when something does."""
    if namespace in OPEN_NAMESPACES or (namespace == project_name and name in schema):
        return None
    if namespace == project_name:
        if suggestion := suggest(project_name, name, schema):
            return "unknown key" + did_you_mean(suggestion)
        return (
            "unknown key — not declared in Pulumi.yaml (`.venv/bin/python -m infra config-table` lists them)"
        )
    known = provider_config_keys(namespace) if namespace else None
    if known is not None and name in known:
        return None
    if known is not None:
        return f"unknown {namespace} setting" + did_you_mean(suggest(namespace, name, known))
    # A project key or a provider's under the wrong namespace: offer the right one.
    suggestion = suggest(project_name, name, schema) or next(
        (f"{ns}:{name}" for ns in _installed_providers() if name in provider_config_keys(ns)), None
    )
    return (
        f"unknown namespace {namespace!r} (this project is {project_name}; providers: "
        f"{', '.join(_installed_providers())})" + did_you_mean(suggestion)
    )


@cache
def _installed_providers() -> tuple[str, ...]:
    return tuple(ns for ns in PROVIDERS if provider_config_keys(ns) is not None)
