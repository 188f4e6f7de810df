"""Where a canary step's error ratio comes from: requests counted per response code class.

`CloudMonitoringSource` reads `run.googleapis.com/request_count` (labels response_code_class,
revision_name) for the candidate revision: real user traffic at the canary share, where the
caller's credentials allow. `ProbeSource` counts the gate's own soak requests to the tag URL:
no credentials needed, the only option on Knative, and the stand-in tests use.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

import requests

MONITORING_API = "https://monitoring.googleapis.com/v3"
REQUEST_COUNT = "run.googleapis.com/request_count"
TOKEN_ENV = "GOOGLE_OAUTH_ACCESS_TOKEN"


class MetricsSource(Protocol):
    name: str

    def request_counts(self, revision: str, since: float, until: float) -> Mapping[str, int]:
        """Requests served by `revision` between two epoch times, by class ("2xx", "5xx", …)."""


def error_ratio(counts: Mapping[str, int]) -> tuple[int, int]:
    """(server errors, total): what the canary budget is about. 4xx are the client's doing."""
    return counts.get("5xx", 0), sum(counts.values())


class ProbeSource:
    """Counts of the responses the gate itself saw from the candidate during a soak."""

    name = "gate probes"

    def __init__(self) -> None:
        self._counts: dict[str, Counter[str]] = {}

    def record(self, revision: str, status: int) -> None:
        self._counts.setdefault(revision, Counter())[f"{status // 100}xx"] += 1

    def request_counts(self, revision: str, since: float, until: float) -> Mapping[str, int]:
        return dict(self._counts.get(revision, Counter()))


def _rfc3339(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def monitoring_query(project: str, service: str, revision: str, since: float, until: float) -> dict[str, str]:
    window = max(60, int(until - since))
    return {
        "filter": (
            f'metric.type="{REQUEST_COUNT}" AND resource.type="cloud_run_revision" '
            f'AND resource.labels.service_name="{service}" AND resource.labels.revision_name="{revision}"'
        ),
        "interval.startTime": _rfc3339(until - window),
        "interval.endTime": _rfc3339(until),
        "aggregation.alignmentPeriod": f"{window}s",
        "aggregation.perSeriesAligner": "ALIGN_DELTA",
        "aggregation.crossSeriesReducer": "REDUCE_SUM",
        "aggregation.groupByFields": "metric.labels.response_code_class",
        "view": "FULL",
    }


def parse_time_series(body: Mapping[str, Any]) -> dict[str, int]:
    """timeSeries.list's answer, grouped by response_code_class, summed over points."""
    counts: Counter[str] = Counter()
    for series in body.get("timeSeries", []):
        code_class = series.get("metric", {}).get("labels", {}).get("response_code_class", "unknown")
        for point in series.get("points", []):
            value = point.get("value", {})
            counts[code_class] += int(value.get("int64Value", value.get("doubleValue", 0)))
    return dict(counts)


def access_token(env: Mapping[str, str] | None = None) -> str | None:
    """`GOOGLE_OAUTH_ACCESS_TOKEN`, else `gcloud auth print-access-token`, else None."""
    environ = os.environ if env is None else env
    if environ.get(TOKEN_ENV):
        return environ[TOKEN_ENV]
    gcloud = shutil.which("gcloud")
    if not gcloud:
        return None
    try:
        done = subprocess.run(
            [gcloud, "auth", "print-access-token"], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else None


class CloudMonitoringSource:
    """Cloud Monitoring's request counts for a Cloud Run revision (needs monitoring.viewer).

    Points arrive with a delay of a few minutes: soak for longer than that, or the window is
    still empty and the step is held back for lack of data rather than passed.
    """

    name = "Cloud Monitoring"

    def __init__(self, project: str, service: str, token: str, session: requests.Session | None = None):
        self.project, self.service, self.token = project, service, token
        self.session = session or requests.Session()

    def request_counts(self, revision: str, since: float, until: float | None = None) -> Mapping[str, int]:
        until = time.time() if until is None else until
        response = self.session.get(
            f"{MONITORING_API}/projects/{self.project}/timeSeries",
            params=monitoring_query(self.project, self.service, revision, since, until),
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )
        if response.status_code != 200:
            raise RuntimeError(f"Cloud Monitoring answered {response.status_code}: {response.text[:200]}")
        return parse_time_series(response.json())
