"""Enabled Google APIs stay enabled when a stack is destroyed."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from policy import tokens
from policy.rule import Level, Rule
from policy.values import get, is_false, is_true, is_unknown


def _check(_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    api = get(inputs, "service")
    api = api if isinstance(api, str) else "the API"
    on_destroy = get(inputs, "disableOnDestroy")
    if not is_unknown(on_destroy) and not is_false(on_destroy):
        # Unset means true: pulumi-gcp disables the API on destroy by default.
        shown = "unset" if on_destroy is None else str(on_destroy).lower()
        yield f"{api} is disabled on destroy (disableOnDestroy is {shown})"
    dependents = get(inputs, "disableDependentServices")
    if not is_unknown(dependents) and is_true(dependents):
        yield f"{api} also disables the APIs that depend on it (disableDependentServices is true)"


RULES = [
    Rule(
        name="apis-keep-on-destroy",
        level=Level.MANDATORY,
        what="Project services (APIs) set disableOnDestroy=false and never disableDependentServices.",
        why=(
            "APIs are project-wide: destroying one stack (dev) would switch off run.googleapis.com "
            "or iam.googleapis.com for every other stack and workload in the project."
        ),
        fix="declare gcp.projects.Service with disable_on_destroy=False (and no disable_dependent_services)",
        types=frozenset({tokens.PROJECT_SERVICE}),
        check=_check,
    ),
]
