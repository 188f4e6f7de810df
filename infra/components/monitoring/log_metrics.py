"""Logs-based metrics from the service's own JSON request log (service/app.py, service/logs.py).

Cloud Run turns each JSON line on stdout into a LogEntry: `severity`, `httpRequest`, `time` and
the `logging.googleapis.com/*` keys become the entry's own fields, everything else lands under
`jsonPayload`. The filters are built from clauses on those entry fields, so a test can check each
clause against a line captured from the running service.

- cold starts: the first request an instance serves (`request_number` 1; probes and scrapes are
  not counted, see service/app.py), a counter labelled by revision;
- queue time: `timings_ms.queue` of every /predict (the Server-Timing `queue` part), a
  distribution, so the dashboard can chart its percentiles;
- start-up phases: one distribution per phase of service/startup.py, from the one start-up line
  each instance logs when it is ready (`startup_phases_s`), labelled by revision: where the
  seconds of a cold start go, phase by phase (docs/cold-starts.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infra.components.monitoring import catalog
from service import routes

REQUEST_LOGGER = "service.requests"  # service/app.py's logger name
# JSON keys Cloud Logging lifts out of jsonPayload onto the LogEntry itself.
SPECIAL_FIELDS = {"severity", "httpRequest", "time", "logging.googleapis.com/labels"}
QUEUE_FIELD = "jsonPayload.timings_ms.queue"
STARTUP_LOGGER = "service.lifecycle"  # service/lifecycle.py's logger: the one "model ready" line
STARTUP_MESSAGE = "model ready"
STARTUP_PHASES_FIELD = "jsonPayload.startup_phases_s"
STARTUP_PHASES = tuple(catalog.STARTUP_PHASES)


@dataclass(frozen=True)
class Clause:
    field: str  # a LogEntry field path: resource.labels.x, jsonPayload.a.b, httpRequest.status
    value: str | int

    def text(self) -> str:
        value = f'"{self.value}"' if isinstance(self.value, str) else str(self.value)
        return f"{self.field}={value}"


def resource_clauses(service_name: str) -> tuple[Clause, ...]:
    return (
        Clause("resource.type", catalog.CLOUD_RUN_REVISION),
        Clause("resource.labels.service_name", service_name),
    )


COLD_START_CLAUSES = (Clause("jsonPayload.logger", REQUEST_LOGGER), Clause("jsonPayload.request_number", 1))
QUEUE_TIME_CLAUSES = (
    Clause("jsonPayload.logger", REQUEST_LOGGER),
    Clause("httpRequest.requestUrl", routes.PREDICT),
    Clause("httpRequest.status", 200),
)


STARTUP_CLAUSES = (
    Clause("jsonPayload.logger", STARTUP_LOGGER),
    Clause("jsonPayload.message", STARTUP_MESSAGE),
)
REVISION_LABEL = {"key": "revision", "value_type": "STRING", "description": "Cloud Run revision"}


def log_filter(service_name: str, clauses: tuple[Clause, ...]) -> str:
    return " AND ".join(c.text() for c in (*resource_clauses(service_name), *clauses))


def cold_start_metric_args(service_name: str) -> dict[str, Any]:
    return {
        "name": catalog.COLD_START_METRIC_ID,
        "description": "First request served by each instance of the QA service (its cold start)",
        "filter": log_filter(service_name, COLD_START_CLAUSES),
        "metric_descriptor": {
            "metric_kind": "DELTA",
            "value_type": "INT64",
            "unit": "1",
            "labels": [{"key": "revision", "value_type": "STRING", "description": "Cloud Run revision"}],
        },
        "label_extractors": {"revision": "EXTRACT(resource.labels.revision_name)"},
    }


def queue_time_metric_args(service_name: str) -> dict[str, Any]:
    return {
        "name": catalog.QUEUE_TIME_METRIC_ID,
        "description": f"Time a {routes.PREDICT} request waited for a model slot (Server-Timing queue)",
        "filter": log_filter(service_name, QUEUE_TIME_CLAUSES),
        "metric_descriptor": {"metric_kind": "DELTA", "value_type": "DISTRIBUTION", "unit": "ms"},
        "value_extractor": f"EXTRACT({QUEUE_FIELD})",
        # 0.1 ms … ~100 s, ×2 per bucket: a free slot is well under 1 ms, a queue is seconds.
        "bucket_options": {
            "exponential_buckets": {"num_finite_buckets": 20, "growth_factor": 2, "scale": 0.1}
        },
    }


def startup_phase_metric_args(service_name: str, phase: str) -> dict[str, Any]:
    """Seconds each new instance's start waited on `phase` (service/startup.py), by revision."""
    return {
        "name": catalog.startup_phase_metric_id(phase),
        "description": f"Seconds a new instance of the QA service spent in its start-up phase {phase!r}",
        "filter": log_filter(service_name, STARTUP_CLAUSES),
        "metric_descriptor": {
            "metric_kind": "DELTA",
            "value_type": "DISTRIBUTION",
            "unit": "s",
            "labels": [REVISION_LABEL],
        },
        "value_extractor": f"EXTRACT({STARTUP_PHASES_FIELD}.{phase})",
        "label_extractors": {"revision": "EXTRACT(resource.labels.revision_name)"},
        # 1 ms … ~65 s, ×2 per bucket: a cached import is milliseconds, a big model's load is seconds.
        "bucket_options": {
            "exponential_buckets": {"num_finite_buckets": 16, "growth_factor": 2, "scale": 0.001}
        },
    }


def as_log_entry(line: dict[str, Any], resource_labels: dict[str, str]) -> dict[str, Any]:
    """What Cloud Logging stores for one JSON stdout line of a Cloud Run container."""
    payload = {k: v for k, v in line.items() if k not in SPECIAL_FIELDS}
    entry = {k: line[k] for k in SPECIAL_FIELDS if k in line}
    return {
        **entry,
        "jsonPayload": payload,
        "resource": {"type": catalog.CLOUD_RUN_REVISION, "labels": resource_labels},
    }


def field_value(entry: dict[str, Any], path: str) -> Any:
    """The value at a dotted LogEntry path, or KeyError."""
    value: Any = entry
    for part in path.split("."):
        value = value[part]
    return value


def matches(entry: dict[str, Any], clauses: tuple[Clause, ...]) -> bool:
    try:
        return all(field_value(entry, c.field) == c.value for c in clauses)
    except (KeyError, TypeError):
        return False
