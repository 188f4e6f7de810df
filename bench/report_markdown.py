"""A load-test report (bench/report.py builds it, with its definitions) as a markdown summary."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from bench.target import target_line


def _fmt(value: object, unit: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        text = f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.2f}"
    else:
        text = f"{value:,}" if isinstance(value, int) else str(value)
    return f"{text}{unit}"


def _table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_fmt(c) for c in row) + " |" for row in rows]
    return lines


def _regions(regions: Sequence[Mapping] | None) -> list[str]:
    """The requests-per-region table; nothing for a report whose responses named no region."""
    if not regions:
        return []
    rows = [
        [
            r["region"] or "(no header)",
            r["answered"],
            r["ok"],
            r["share_pct"],
            r["p50_latency_ms"],
            r["p99_latency_ms"],
        ]
        for r in regions
    ]
    header = ["region", "answered", "ok", "share of ok (%)", "p50 ms", "p99 ms"]
    return ["", "### Requests per region (X-Instance-Region)", "", *_table(header, rows)]


def render_markdown(report: Mapping) -> str:
    run, req = report["run"], report["requests"]
    mode = (
        f"open loop, {run['rps']:g} req/s"
        if run.get("rps") is not None
        else f"closed loop, concurrency {run.get('concurrency')}"
    )
    lines = [
        f"## Load test: {run.get('url', '?')}",
        "",
        f"{mode}, {run.get('duration_s', '?')} s"
        + (f", at most {run['max_requests']} requests" if run.get("max_requests") else "")
        + f" — started {run.get('started_at', '?')}",
        "",
        target_line(run.get("target")),
        "",
    ]

    lines += ["### Requests", ""]
    lines += _table(
        ["scheduled", "sent", "ok", "failed", "overflow", "throughput (ok/s)"],
        [
            [
                req["scheduled"],
                req["sent"],
                req["ok"],
                req["failed"],
                req["overflow"],
                report["throughput"]["ok_rps"],
            ]
        ],
    )
    lines += [
        "",
        "Outcome by status: " + ", ".join(f"`{k}` × {v}" for k, v in report["status_counts"].items()),
        "",
    ]

    lines += ["### Latency (ms, successful requests, nearest-rank percentiles)", ""]
    rows = []
    for label, key in (
        ("client latency", "latency_ms"),
        ("server total", "server_total_ms"),
        ("inference", "server_inference_ms"),
        ("queue in the app", "server_queue_ms"),
        ("outside the app", "outside_app_ms"),
    ):
        s = report[key]
        rows.append([label, s["count"], s["p50"], s["p90"], s["p99"], s["max"], s["mean"]])
    lines += _table(["", "n", "p50", "p90", "p99", "max", "mean"], rows)

    split = report["split"]
    if split.get("count"):
        share, mean = split["share_pct"], split["mean_ms"]
        lines += [
            "",
            f"Where the mean {_fmt(split['mean_latency_ms'])} ms goes: inference "
            f"{_fmt(mean['inference'])} ms ({_fmt(share['inference'])} %), waiting for a model "
            f"slot in the app {_fmt(mean.get('queue'))} ms ({_fmt(share.get('queue'))} %), app "
            f"overhead {_fmt(mean['app_overhead'])} ms ({_fmt(share['app_overhead'])} %), network "
            f"and queueing outside the app {_fmt(mean['outside_app'])} ms "
            f"({_fmt(share['outside_app'])} %).",
        ]

    lines += _regions(report.get("regions"))

    inst, cold = report["instances"], report["cold_starts"]
    delayed = cold["startup_delayed"]
    lines += [
        "",
        "### Instances and cold starts",
        "",
        f"{inst['seen']} instance(s) answered; {inst['started_during_run']} started during the "
        f"run. Cold starts (first request of a new instance, waiting for its start-up): "
        f"{cold['count']}"
        + (
            f" ({ready} first request(s) found their instance already ready)"
            if (ready := cold.get("first_requests_on_ready_instances"))
            else ""
        )
        + ". Requests "
        f"delayed by a start-up (excess > {delayed['threshold_ms']:g} ms among an instance's "
        f"first {delayed['window']}): {delayed['count']}, of which "
        f"{delayed['of_which_cold_starts']} cold start(s).",
    ]
    if inst["without_instance_header"]:
        lines += [
            "",
            f"{inst['without_instance_header']} answered request(s) had no "
            "X-Instance-Id header: cold starts cannot be counted for them.",
        ]
    if cold["events"]:
        header = ["instance", "at (s)", "status", "latency ms", "server ms", "outside app ms"]
        rows = [
            [
                e["instance_id"][:12],
                e["sent_s"],
                e["status"],
                e["latency_ms"],
                e["server_total_ms"],
                e["overhead_ms"],
            ]
            for e in cold["events"][:20]
        ]
        lines += ["", *_table(header, rows)]
        if len(cold["events"]) > 20:
            lines.append(f"… and {len(cold['events']) - 20} more in report.json")
    lag = report["schedule_lag_ms"]
    if run.get("rps") is not None and lag["count"]:
        lines += [
            "",
            f"Send-time lag behind schedule: p99 {_fmt(lag['p99'])} ms, max "
            f"{_fmt(lag['max'])} ms (large values: the load generator itself could not keep up).",
        ]
    return "\n".join(lines) + "\n"
