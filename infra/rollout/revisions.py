"""Revision names from content: the same image and revision spec always give the same name.

Both platforms refuse a second revision under an existing name with a different spec, and both
accept a client-chosen name prefixed by the service's. So the name hashes everything that makes
a revision (the image digest and every template field), and traffic can point at it before the
revision exists.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

HASH_CHARS = 12
SEPARATOR = "-r"
# DNS label: both platforms use the revision name as a hostname part (Knative) or resource id.
MAX_NAME_CHARS = 63


def revision_name(service: str, image: str, template: Mapping[str, Any]) -> str:
    """`SERVICE-r<12 hex of sha256(image digest + canonical template)>`."""
    canonical = json.dumps(template, sort_keys=True, separators=(",", ":"), default=str)
    digest = hashlib.sha256(f"{image}\0{canonical}".encode()).hexdigest()[:HASH_CHARS]
    name = f"{service}{SEPARATOR}{digest}"
    if len(name) > MAX_NAME_CHARS:
        raise ValueError(f"revision name {name!r} is over {MAX_NAME_CHARS} characters: shorten serviceName")
    return name


def revision_pattern(service: str) -> re.Pattern[str]:
    # Letters of either case: names this project makes are lowercase hex, but a reviewer's
    # placeholder (`--set servingRevision=qa-rOLD`) must still render its phase.
    return re.compile(rf"^{re.escape(service)}-[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$")


def is_revision_of(service: str, name: str) -> bool:
    """Whether `name` can be a revision of `service` (both platforms require the prefix)."""
    return len(name) <= MAX_NAME_CHARS and bool(revision_pattern(service).match(name))


def spec_fields(spec: Any, **extra: Any) -> dict[str, Any]:
    """What makes a revision, from a `ModelServiceSpec` (a dataclass) without its image (hashed
    apart, by digest) plus the platform's own template inputs (`extra`)."""
    fields = dataclasses.asdict(dataclasses.replace(spec, image=""))  # the image may be an Output
    del fields["image"]
    return {**fields, **extra}
