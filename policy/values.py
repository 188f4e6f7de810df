"""Reading resource inputs the way every rule must: tolerant of missing, odd and unknown values.

During `pulumi preview` an input computed from another resource's output (the runtime service
account's e-mail, the pushed image's digest…) is not known yet. The engine sends such values as
sentinel strings; `pulumi_policy` raises when one is read. The pack turns them into `UNKNOWN`
(see `policy.pack`), the offline render never has any, and every rule treats `UNKNOWN` as
"cannot judge": it skips that value instead of reporting or crashing.

This module imports nothing from Pulumi, so rules stay pure functions over plain data.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Final


class _Unknown:
    """The single value standing for "not known until the update runs"."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        # Never truthy, never falsy by accident: a rule must ask `is_unknown` first.
        raise TypeError("UNKNOWN has no truth value; test is_unknown(value) first")


UNKNOWN: Final = _Unknown()

# The engine's wire sentinels for unknown values (pulumi/sdk go/common/resource/properties.go),
# the same strings pulumi_policy.proxy compares against; tests keep the two in step.
UNKNOWN_SENTINELS: Final = frozenset(
    {
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",  # boolean
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",  # number
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",  # string
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",  # array
        "030794c1-ac77-496b-92df-f27374a8bd58",  # asset
        "e48ece36-62e2-4504-bad9-02848725956a",  # archive
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",  # object
    }
)


def is_unknown(value: Any) -> bool:
    return value is UNKNOWN


def normalize(value: Any) -> Any:
    """Plain dicts/lists with every unknown sentinel replaced by UNKNOWN."""
    if isinstance(value, str) and value in UNKNOWN_SENTINELS:
        return UNKNOWN
    if isinstance(value, Mapping):
        return {key: normalize(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [normalize(item) for item in value]
    return value


def get(inputs: Any, path: str) -> Any:
    """`get(inputs, "template.scaling.maxInstanceCount")`: the value, None when absent (or a
    step is not an object), UNKNOWN when any step on the way is unknown."""
    current = inputs
    for key in path.split("."):
        if is_unknown(current):
            return UNKNOWN
        if not isinstance(current, Mapping):
            return None
        current = current.get(key)
    return current


def objects(value: Any) -> Iterator[dict[str, Any]]:
    """The objects of a list input, skipping unknown or malformed elements (and nothing at all
    when the list itself is unknown or not a list)."""
    if isinstance(value, list):
        for item in value:
            if isinstance(item, Mapping):
                yield dict(item)


def strings(value: Any) -> Iterator[str]:
    """The known strings of a list input."""
    if isinstance(value, list):
        for item in value:
            if isinstance(item, str):
                yield item


def is_true(value: Any) -> bool:
    return value is True


def is_false(value: Any) -> bool:
    return value is False


def as_number(value: Any) -> float | None:
    """A number input (protobuf carries them as doubles; a render may hold ints or strings)."""
    if isinstance(value, bool) or is_unknown(value):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)s$")


def duration_seconds(value: Any) -> float | None:
    """A protobuf Duration string ("300s", "1.5s") in seconds; None when it is not one."""
    if isinstance(value, str):
        match = _DURATION.match(value.strip())
        if match:
            return float(match.group(1))
    return None


# The Compute Engine default service account (`PROJECT_NUMBER-compute@developer…`) has Editor
# on the whole project; App Engine's default (`PROJECT_ID@appspot…`) likewise. GKE node configs
# also accept the literal "default" for the Compute one.
_DEFAULT_SA = re.compile(
    r"^(?:serviceAccount:)?(?:\d+-compute@developer\.gserviceaccount\.com"
    r"|[a-z][a-z0-9-]*@appspot\.gserviceaccount\.com|default)$"
)


def is_default_service_account(value: Any) -> bool:
    return isinstance(value, str) and bool(_DEFAULT_SA.match(value.strip()))
