"""Deletion protection on production Cloud Run services."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from policy import tokens
from policy.rule import Level, Rule
from policy.values import get, is_false, is_unknown

# The `stack` label the program puts on every resource; "prod", "production", "prod-eu"…
_PROD = re.compile(r"^prod(?:uction)?(?:[-_].*)?$")


def is_prod(inputs: Mapping[str, Any]) -> bool:
    stack = get(inputs, "labels.stack")
    return isinstance(stack, str) and bool(_PROD.match(stack))


def _check(_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    if not is_prod(inputs):
        return
    protection = get(inputs, "deletionProtection")
    # Unset is fine: pulumi-gcp defaults deletion_protection to true.
    if not is_unknown(protection) and is_false(protection):
        yield f"deletionProtection is false on a {get(inputs, 'labels.stack')} service"


RULES = [
    Rule(
        name="cloudrun-deletion-protection-prod",
        level=Level.MANDATORY,
        what="Cloud Run services labelled stack=prod keep deletionProtection on.",
        why=(
            "A mistyped `pulumi destroy` or a replace would otherwise delete the production "
            "endpoint and its URL; dev stacks turn it off so they can be torn down."
        ),
        fix="set the `deletionProtection` stack setting to true for prod (turn it off only to decommission)",
        types=frozenset({tokens.CLOUD_RUN_SERVICE}),
        check=_check,
    ),
]
