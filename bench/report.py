"""From request records to `report.json` and a markdown summary.

The definitions below and the code that applies them stay in one file, so the report cannot
drift from what it says it measures; bench/report_markdown.py only lays a report out.

Definitions (also written into every report under "definitions"):

* Latency percentiles are over successful (2xx) requests, client side (send → body read),
  nearest-rank (see `qaclient.stats`).
* Throughput = successful responses / the run's window, t = 0 to the last response.
* Cold start = the request an instance answered first (`X-Instance-Request-Count: 1`) that
  waited for the instance to start: the instance's ready age when the request arrived
  (`X-Instance-Ready-Age-Ms`) is below the time the request spent outside the app. A first
  request that found its instance long ready (a min instance, a local server started before
  the run) is not one. Without the age header every first request counts. An instance whose
  first answer we saw had a higher count was already running (a min instance, earlier traffic).
* Start-up delayed = a request among an instance's first `cold_window` requests whose
  excess exceeds `cold_threshold_ms`, where excess is the larger of
  (overhead − median warm overhead) and (server total − median warm server total),
  overhead = client latency − server total (time outside the app: network, load balancer,
  queueing for an instance that is still starting). "Warm" = requests past an instance's
  first `cold_window`. This catches requests that waited for a container to start, and
  first requests that were slow inside the app (lazy loading, first-call compilation).
* Requests per region (only when responses carry `X-Instance-Region`, which a stack's Cloud Run
  services set: docs/multi-region.md): per region that answered, the answered and successful
  requests, its share of all successful ones, and its p50/p99 client latency over its successful
  requests. Answers without the header count under "" (none).
* Split: mean client latency = mean inference + mean queue (Server-Timing `queue`: waiting
  in the app for a model slot) + mean app overhead (server total − inference − queue: HTTP,
  tokenization, decoding) + mean outside-app time (latency − server total), over successful
  requests that carry the inference and total metrics.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import records as rec
from qaclient.stats import PERCENTILE_METHOD, median, summarize

DEFAULT_COLD_WINDOW = 10
DEFAULT_COLD_THRESHOLD_MS = 250.0


@dataclass(frozen=True)
class ColdStartRule:
    window: int = DEFAULT_COLD_WINDOW
    threshold_ms: float = DEFAULT_COLD_THRESHOLD_MS


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def _rounded(summary: Mapping[str, float | int | None]) -> dict[str, float | int | None]:
    return {k: (v if k == "count" else _round(v)) for k, v in summary.items()}


def _end_s(record: rec.RequestRecord) -> float | None:
    if record.sent_s is None or record.latency_ms is None:
        return None
    return record.sent_s + record.latency_ms / 1000


def _window_s(records: Sequence[rec.RequestRecord], duration_s: float | None) -> float:
    ends = [e for r in records if (e := _end_s(r)) is not None]
    sends = [r.sent_s for r in records if r.sent_s is not None]
    window = max(ends + sends, default=0.0)
    return window if window > 0 else (duration_s or 0.0)


def instance_position(records: Sequence[rec.RequestRecord]) -> dict[int, int]:
    """seq → the request's 1-based position on its instance.

    The service's own counter (`X-Instance-Request-Count`) when it sent one; otherwise the
    order in which this client saw the instance answer (which misses earlier traffic).
    """
    position: dict[int, int] = {}
    seen: Counter[str] = Counter()
    for r in sorted(records, key=lambda r: (r.sent_s or 0.0, r.seq)):
        if not r.instance_id:
            continue
        seen[r.instance_id] += 1
        position[r.seq] = r.instance_request_count or seen[r.instance_id]
    return position


def analyse_cold_starts(records: Sequence[rec.RequestRecord], rule: ColdStartRule = ColdStartRule()) -> dict:
    answered = [r for r in records if r.status is not None and r.instance_id]
    position = instance_position(answered)
    # Only the service's own counter can tell a new instance from one that was already up, and
    # only its ready age whether that first request waited for the start-up.
    firsts = [r for r in answered if r.instance_request_count == 1]
    first_events = [_event(r, r.instance_id, 1) for r in firsts if r.waited_for_startup is not False]

    ok = [r for r in answered if r.outcome == rec.OK]
    warm = [r for r in ok if position[r.seq] > rule.window] or ok
    warm_overhead = median([o for r in warm if (o := r.overhead_ms) is not None])
    warm_server = median([r.server_total_ms for r in warm if r.server_total_ms is not None])
    warm_latency = median([r.latency_ms for r in warm if r.latency_ms is not None])

    delayed = []
    for r in answered:
        if position[r.seq] > rule.window or r.latency_ms is None:
            continue
        excess = _excess(r, warm_overhead, warm_server, warm_latency)
        if excess is not None and excess > rule.threshold_ms:
            delayed.append({**_event(r, r.instance_id, position[r.seq]), "excess_ms": _round(excess)})

    first_events.sort(key=lambda e: (e["sent_s"] or 0.0, e["seq"]))
    cold_seqs = {e["seq"] for e in first_events}
    delayed.sort(key=lambda e: (e["sent_s"] or 0.0, e["seq"]))
    return {
        "count": len(first_events),
        "first_requests_on_ready_instances": sum(r.waited_for_startup is False for r in firsts),
        "events": first_events,
        "latency_ms": _rounded(summarize(e["latency_ms"] for e in first_events)),
        "startup_delayed": {
            "count": len(delayed),
            "of_which_cold_starts": sum(1 for e in delayed if e["seq"] in cold_seqs),
            "window": rule.window,
            "threshold_ms": rule.threshold_ms,
            "warm_median_overhead_ms": _round(warm_overhead),
            "warm_median_server_total_ms": _round(warm_server),
            "events": delayed,
        },
    }


def _excess(
    r: rec.RequestRecord,
    warm_overhead: float | None,
    warm_server: float | None,
    warm_latency: float | None,
) -> float | None:
    candidates = []
    if (overhead := r.overhead_ms) is not None and warm_overhead is not None:
        candidates.append(overhead - warm_overhead)
    if r.server_total_ms is not None and warm_server is not None:
        candidates.append(r.server_total_ms - warm_server)
    if not candidates and r.latency_ms is not None and warm_latency is not None:
        candidates.append(r.latency_ms - warm_latency)  # no Server-Timing: latency is all we have
    return max(candidates) if candidates else None


def _event(r: rec.RequestRecord, instance: str, position: int) -> dict:
    return {
        "seq": r.seq,
        "instance_id": instance,
        "instance_request": position,
        "sent_s": _round(r.sent_s, 3),
        "status": r.status,
        "latency_ms": _round(r.latency_ms),
        "server_total_ms": _round(r.server_total_ms),
        "overhead_ms": _round(r.overhead_ms),
        "instance_ready_age_ms": _round(r.instance_ready_age_ms),
    }


def _started_during_run(first: rec.RequestRecord) -> bool:
    """The instance's first request shows it became ready after t = 0 (or, without the age
    header, that we saw its first request at all)."""
    if first.instance_request_count != 1:
        return False
    if first.instance_ready_age_ms is None or first.sent_s is None:
        return True
    # It arrived between sending and `overhead` later, so it became ready at the earliest
    # `sent − age`; only a surely positive time (or a wait for the start) counts.
    return bool(first.waited_for_startup) or first.sent_s * 1000 - first.instance_ready_age_ms > 0


def _instances(records: Sequence[rec.RequestRecord]) -> dict:
    answered = [r for r in records if r.status is not None and r.instance_id]
    position = instance_position(answered)
    rows: dict[str, list[rec.RequestRecord]] = defaultdict(list)
    for r in answered:
        rows[r.instance_id].append(r)
    table = []
    for instance, items in rows.items():
        first_seen = min(r.sent_s or 0.0 for r in items)
        lowest = min(position[r.seq] for r in items)
        first = min(items, key=lambda r: position[r.seq])
        counted = any(r.instance_request_count is not None for r in items)
        table.append(
            {
                "instance_id": instance,
                "requests": len(items),
                "ok": sum(r.outcome == rec.OK for r in items),
                "first_seen_s": _round(first_seen, 3),
                "first_request_count": lowest if counted else None,
                "started_during_run": counted and _started_during_run(first),
                "p50_latency_ms": _round(
                    median([r.latency_ms for r in items if r.outcome == rec.OK and r.latency_ms is not None])
                ),
            }
        )
    table.sort(key=lambda row: (row["first_seen_s"], row["instance_id"]))
    return {
        "seen": len(table),
        "started_during_run": sum(row["started_during_run"] for row in table),
        "without_instance_header": sum(1 for r in records if r.status is not None and not r.instance_id),
        "per_instance": table,
    }


def _regions(records: Sequence[rec.RequestRecord]) -> list[dict]:
    """One row per region that answered, in the order of their successful requests (most first)."""
    answered = [r for r in records if r.status is not None]
    by_region: dict[str, list[rec.RequestRecord]] = defaultdict(list)
    for r in answered:
        by_region[r.instance_region].append(r)
    all_ok = sum(r.outcome == rec.OK for r in answered)
    rows = []
    for region, items in by_region.items():
        ok = sum(r.outcome == rec.OK for r in items)
        latency = summarize(r.latency_ms for r in items if r.outcome == rec.OK)
        rows.append(
            {
                "region": region,
                "answered": len(items),
                "ok": ok,
                "share_pct": _round(100 * ok / all_ok, 1) if all_ok else None,
                "p50_latency_ms": _round(latency["p50"]),
                "p99_latency_ms": _round(latency["p99"]),
            }
        )
    rows.sort(key=lambda row: (-row["ok"], row["region"]))
    return rows


def _split(ok: Sequence[rec.RequestRecord]) -> dict:
    timed = [
        r
        for r in ok
        if r.latency_ms is not None and r.server_total_ms is not None and r.server_inference_ms is not None
    ]
    if not timed:
        return {"count": 0, "note": "no Server-Timing inference/total on successful responses"}
    n = len(timed)
    latency = sum(r.latency_ms for r in timed) / n  # type: ignore[misc]
    inference = sum(r.server_inference_ms for r in timed) / n  # type: ignore[misc]
    queue = sum(r.server_queue_ms or 0.0 for r in timed) / n
    total = sum(r.server_total_ms for r in timed) / n  # type: ignore[misc]
    parts = {
        "inference": inference,
        "queue": queue,
        "app_overhead": total - inference - queue,
        "outside_app": latency - total,
    }
    return {
        "count": n,
        "mean_latency_ms": _round(latency),
        "mean_ms": {k: _round(v) for k, v in parts.items()},
        "share_pct": {k: _round(100 * v / latency, 1) if latency > 0 else None for k, v in parts.items()},
    }


def build_report(
    records: Sequence[rec.RequestRecord],
    run: Mapping | None = None,
    rule: ColdStartRule = ColdStartRule(),
) -> dict:
    """Everything report.json holds, from the records (and the run's settings, echoed)."""
    run = dict(run or {})
    ok = [r for r in records if r.outcome == rec.OK]
    outcomes = Counter(r.outcome for r in records)
    window = _window_s(records, run.get("duration_s"))
    sent = [r for r in records if r.sent_s is not None]
    lags = [(r.sent_s - r.scheduled_s) * 1000 for r in sent]  # type: ignore[operator]
    return {
        "run": run,
        "definitions": {
            "percentiles": PERCENTILE_METHOD,
            "latency": "client side, send → whole body read, successful (2xx) requests only",
            "throughput": "successful responses / window (t = 0 to the last response)",
            "cold_start": (
                "first request an instance answered (X-Instance-Request-Count = 1) that waited "
                "for its start-up (X-Instance-Ready-Age-Ms below the time outside the app)"
            ),
            "startup_delayed": (
                f"among an instance's first {rule.window} requests: excess over warm "
                f"medians of (latency − server total) or server total > "
                f"{rule.threshold_ms:g} ms"
            ),
        },
        "requests": {
            "scheduled": len(records),
            "sent": len(sent),
            "answered": sum(r.status is not None for r in records),
            "ok": len(ok),
            "failed": len(records) - len(ok),
            **{outcome: outcomes.get(outcome, 0) for outcome in rec.OUTCOMES if outcome != rec.OK},
        },
        "status_counts": dict(sorted(Counter(r.tally_key for r in records).items())),
        "throughput": {
            "window_s": _round(window, 3),
            "ok_rps": _round(len(ok) / window if window else None, 3),
            "sent_rps": _round(len(sent) / window if window else None, 3),
        },
        "latency_ms": _rounded(summarize(r.latency_ms for r in ok)),
        "latency_ms_all_answered": _rounded(summarize(r.latency_ms for r in records if r.status is not None)),
        "server_total_ms": _rounded(summarize(r.server_total_ms for r in ok)),
        "server_inference_ms": _rounded(summarize(r.server_inference_ms for r in ok)),
        "server_queue_ms": _rounded(summarize(r.server_queue_ms for r in ok)),
        "outside_app_ms": _rounded(summarize(r.overhead_ms for r in ok)),
        "split": _split(ok),
        "schedule_lag_ms": _rounded(summarize(lags)),
        "instances": _instances(records),
        "cold_starts": analyse_cold_starts(records, rule),
        # Only from a stack that names its regions: a report without them stays as it was.
        **({"regions": _regions(records)} if any(r.instance_region for r in records) else {}),
    }


def write_report(out_dir: Path, report: Mapping) -> Path:
    path = out_dir / "report.json"
    path.write_text(json.dumps(report, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path
