"""Reading a Cloud Run v2 service's revision template (shared by the cloud_run_* rules)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policy.values import get, objects


def containers(inputs: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The template's known containers (none when the list is unknown)."""
    return list(objects(get(inputs, "template.containers")))


def serving_container(inputs: Mapping[str, Any]) -> dict[str, Any] | None:
    """The ingress container: the one with `ports`, or the only container. Sidecars receive no
    requests, so request-path rules (probes) look at this one only."""
    raw = get(inputs, "template.containers")
    if not isinstance(raw, list) or not all(isinstance(c, Mapping) for c in raw):
        return None  # unknown (or malformed) containers: which one serves cannot be told
    found = containers(inputs)
    with_ports = [c for c in found if c.get("ports") is not None]
    if len(with_ports) == 1:
        return with_ports[0]
    if len(found) == 1:
        return found[0]
    return None


def label(container: Mapping[str, Any], index: int) -> str:
    name = container.get("name")
    return f'container "{name}"' if isinstance(name, str) and name else f"container #{index}"
