"""One row per request: what the load generator saw, and the CSV file that keeps it.

The report and the plots read only these rows, so a run can be re-analysed later from
`requests.csv` alone (`python -m bench report DIR`).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from pathlib import Path

# Outcomes. Every scheduled request ends as exactly one of these.
OK = "ok"  # a 2xx response
HTTP_ERROR = "http_error"  # any other HTTP status
TIMEOUT = "timeout"  # no answer within --timeout
CONNECTION_ERROR = "connection_error"  # refused, reset, DNS, TLS…
CANCELLED = "cancelled"  # still in flight when the grace period after the deadline ran out
OVERFLOW = "overflow"  # open loop: due while --max-outstanding requests were in flight; never sent
OTHER_ERROR = "error"  # anything else the client raised
OUTCOMES = (OK, HTTP_ERROR, TIMEOUT, CONNECTION_ERROR, CANCELLED, OVERFLOW, OTHER_ERROR)


@dataclass
class RequestRecord:
    seq: int
    scheduled_s: float  # when it was due, seconds after the run started (closed loop: = sent_s)
    outcome: str
    sent_s: float | None = None  # when it was sent; None if never sent (overflow)
    latency_ms: float | None = None  # client side: send → whole body read
    status: int | None = None  # HTTP status, None when no response came
    instance_id: str = ""  # X-Instance-Id
    instance_request_count: int | None = None  # X-Instance-Request-Count (1 = first it served)
    server_total_ms: float | None = None  # Server-Timing total: time inside the app
    server_inference_ms: float | None = None  # Server-Timing inference: the model's share
    sent_epoch: float | None = None  # wall clock at send, to match against server logs
    error: str = ""
    # Appended after the first columns so older requests.csv files still read.
    instance_ready_age_ms: float | None = None  # X-Instance-Ready-Age-Ms: instance ready this long
    server_queue_ms: float | None = None  # Server-Timing queue: waiting for a model slot in the app
    instance_region: str = ""  # X-Instance-Region: the region that answered ("" without the header)

    @property
    def overhead_ms(self) -> float | None:
        """Client latency not spent in the app: network, load balancer, queueing, start-up."""
        if self.latency_ms is None or self.server_total_ms is None:
            return None
        return self.latency_ms - self.server_total_ms

    @property
    def waited_for_startup(self) -> bool | None:
        """The instance became ready while this request was on its way (None: no header).

        The instance's ready age at arrival is below the time the request spent outside the
        app, so the instance was not ready when the request was sent.
        """
        if self.instance_ready_age_ms is None or self.overhead_ms is None:
            return None
        return self.instance_ready_age_ms < self.overhead_ms

    @property
    def tally_key(self) -> str:
        """How the report counts it: the HTTP status if there was one, else the outcome."""
        return str(self.status) if self.status is not None else self.outcome


FIELDS = [f.name for f in fields(RequestRecord)]
_INTS = {"seq", "status", "instance_request_count"}
_FLOATS = {
    "scheduled_s",
    "sent_s",
    "latency_ms",
    "server_total_ms",
    "server_inference_ms",
    "sent_epoch",
    "instance_ready_age_ms",
    "server_queue_ms",
}


def write_csv(path: Path, records: Iterable[RequestRecord]) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=FIELDS)
        writer.writeheader()
        for record in records:
            row = asdict(record)
            writer.writerow({k: "" if v is None else v for k, v in row.items()})


def read_csv(path: Path) -> list[RequestRecord]:
    with path.open(newline="", encoding="utf-8") as src:
        return [_from_row(row) for row in csv.DictReader(src)]


def _from_row(row: dict[str, str]) -> RequestRecord:
    values: dict[str, object] = {}
    for name in FIELDS:
        text = row.get(name, "")
        if name in _INTS:
            values[name] = int(text) if text else None
        elif name in _FLOATS:
            values[name] = float(text) if text else None
        else:
            values[name] = text
    if values["scheduled_s"] is None:
        values["scheduled_s"] = 0.0
    return RequestRecord(**values)  # type: ignore[arg-type]
