"""The response headers the harness reads (the service's contract: service/README.md, "Response headers")."""

from __future__ import annotations

import re
from collections.abc import Mapping

from service.headers import (
    INSTANCE_ID,
    INSTANCE_READY_AGE,
    INSTANCE_REGION,
    INSTANCE_REQUEST_COUNT,
    SERVER_TIMING,
)

# One metric of a Server-Timing header: `name;dur=12.5;desc="…"` (W3C Server Timing).
_DUR = re.compile(r"""(?:^|;)\s*dur\s*=\s*"?([0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?)"?""")


def parse_server_timing(value: str | None) -> dict[str, float]:
    """`'inference;dur=12.5, total;dur=15'` → `{'inference': 12.5, 'total': 15.0}` (ms).

    Metrics without a duration, or with a malformed one, are left out rather than failing
    the request: a third-party endpoint may send anything here.
    """
    result: dict[str, float] = {}
    if not value:
        return result
    for metric in value.split(","):
        name, _, params = metric.strip().partition(";")
        name = name.strip().lower()
        match = _DUR.search(";" + params)
        if name and match:
            result[name] = float(match.group(1))
    return result


def timing_params(value: str | None, metric: str) -> dict[str, str]:
    """The parameters other than `dur` of one metric: `'batch;dur=2;size=3'`, "batch" → `{'size': '3'}`.

    The service reports a dynamic batch's size this way (service/app.py).
    """
    for part in (value or "").split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() != metric:
            continue
        pairs = (p.partition("=") for p in params.split(";") if "=" in p)
        return {k.strip().lower(): v.strip().strip('"') for k, _, v in pairs if k.strip().lower() != "dur"}
    return {}


def parse_count(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def parse_ms(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def instance_fields(headers: Mapping[str, str]) -> dict[str, object]:
    """The RequestRecord fields that come from a response's headers."""
    timing = parse_server_timing(headers.get(SERVER_TIMING))
    return {
        "instance_id": headers.get(INSTANCE_ID, "") or "",
        "instance_region": (headers.get(INSTANCE_REGION) or "").strip(),
        "instance_request_count": parse_count(headers.get(INSTANCE_REQUEST_COUNT)),
        "instance_ready_age_ms": parse_ms(headers.get(INSTANCE_READY_AGE)),
        "server_total_ms": timing.get("total"),
        "server_inference_ms": timing.get("inference"),
        "server_queue_ms": timing.get("queue"),
    }
