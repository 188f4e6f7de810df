"""Headless matplotlib plots of a load run (Agg backend: no display needed).

* `latency_timeline.png` — every request's latency at the moment it was sent, cold starts
  starred, failures as red crosses, the per-bucket median as a line; a panel below shares
  the time axis and counts instances (seen so far, and answering within each bucket).
* `latency_distribution.png` — histogram of successful latencies with p50/p90/p99 marked,
  and the empirical CDF beside it.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot: never try to open a window (CI, SSH, containers)
import matplotlib.pyplot as plt

from bench import records as rec
from bench.target import target_line
from qaclient.stats import median, percentile

TIMELINE = "latency_timeline.png"
DISTRIBUTION = "latency_distribution.png"
COLORS = {
    "ok": "#1f77b4",
    "error": "#d62728",
    "cold": "#ff7f0e",
    "median": "#222222",
    "seen": "#2ca02c",
    "active": "#9467bd",
}
PCT_STYLES = ((50, "#2ca02c"), (90, "#ff7f0e"), (99, "#d62728"))


def bucket_width(span_s: float) -> float:
    """About 40 buckets over the run, in round numbers of seconds (≥ 0.5 s)."""
    raw = max(span_s / 40, 0.5)
    for step in (0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600):
        if raw <= step:
            return float(step)
    return float(math.ceil(raw / 600) * 600)


def instance_counts(
    records: Sequence[rec.RequestRecord], width_s: float, span_s: float
) -> tuple[list[float], list[int], list[int]]:
    """Bucket starts, instances seen so far by each bucket's end, instances answering in it."""
    n = max(1, math.ceil(span_s / width_s))
    active: list[set[str]] = [set() for _ in range(n)]
    first_seen: dict[str, int] = {}
    for r in records:
        if r.instance_id and r.sent_s is not None and r.status is not None:
            b = min(int(r.sent_s // width_s), n - 1)
            active[b].add(r.instance_id)
            first_seen[r.instance_id] = min(first_seen.get(r.instance_id, b), b)
    seen, total = [], 0
    for b in range(n):
        total += sum(1 for first in first_seen.values() if first == b)
        seen.append(total)
    return [b * width_s for b in range(n)], seen, [len(s) for s in active]


def _use_log(values: Sequence[float]) -> bool:
    positive = [v for v in values if v > 0]
    return bool(positive) and max(positive) / min(positive) > 30


def plot_timeline(records: Sequence[rec.RequestRecord], report: Mapping, path: Path) -> Path:
    sent = [r for r in records if r.sent_s is not None and r.latency_ms is not None]
    ok = [r for r in sent if r.outcome == rec.OK]
    failed = [r for r in sent if r.outcome != rec.OK]
    cold_seqs = {e["seq"] for e in report["cold_starts"]["events"]}
    delayed_seqs = {e["seq"] for e in report["cold_starts"]["startup_delayed"]["events"]} - cold_seqs
    span = max([r.sent_s for r in sent] + [report["run"].get("duration_s") or 1.0])  # type: ignore[type-var]
    width = bucket_width(span)

    fig, (ax, inst_ax) = plt.subplots(
        2, 1, figsize=(11, 7), dpi=110, sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    ax.scatter(
        [r.sent_s for r in ok],
        [r.latency_ms for r in ok],
        s=9,
        alpha=0.55,
        color=COLORS["ok"],
        label=f"ok ({len(ok)})",
        zorder=2,
    )
    if failed:
        ax.scatter(
            [r.sent_s for r in failed],
            [r.latency_ms for r in failed],
            s=26,
            marker="x",
            color=COLORS["error"],
            label=f"failed ({len(failed)})",
            zorder=3,
        )
    delayed = [r for r in sent if r.seq in delayed_seqs]
    if delayed:
        ax.scatter(
            [r.sent_s for r in delayed],
            [r.latency_ms for r in delayed],
            s=70,
            facecolors="none",
            edgecolors=COLORS["cold"],
            linewidths=1.4,
            label=f"start-up delayed ({len(delayed)})",
            zorder=4,
        )
    cold = [r for r in sent if r.seq in cold_seqs]
    if cold:
        ax.scatter(
            [r.sent_s for r in cold],
            [r.latency_ms for r in cold],
            s=190,
            marker="*",
            color=COLORS["cold"],
            edgecolors="black",
            linewidths=0.6,
            label=f"cold start: waited for a new instance ({len(cold)})",
            zorder=5,
        )
    starts, medians = _bucket_medians(ok, width, span)
    if starts:
        ax.step(
            starts,
            medians,
            where="post",
            color=COLORS["median"],
            linewidth=1.4,
            label=f"median per {width:g} s",
        )
    if _use_log([r.latency_ms for r in sent]):  # type: ignore[misc]
        ax.set_yscale("log")
    ax.set_ylabel("client latency (ms)")
    ax.set_xlim(left=-span * 0.01, right=span * 1.02 + width * 0.1)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize=8, framealpha=0.85)
    ax.set_title(_title("Latency over time", report), fontsize=11)

    bucket_starts, seen, active = instance_counts(sent, width, span)
    edges = [*bucket_starts, bucket_starts[-1] + width]
    inst_ax.step(
        edges,
        [*seen, seen[-1]],
        where="post",
        color=COLORS["seen"],
        linewidth=2,
        label="instances seen so far",
    )
    inst_ax.step(
        edges,
        [*active, active[-1]],
        where="post",
        color=COLORS["active"],
        linewidth=1.4,
        linestyle="--",
        label=f"instances answering per {width:g} s",
    )
    for r in cold:
        inst_ax.axvline(r.sent_s, color=COLORS["cold"], linewidth=1, alpha=0.8)  # type: ignore[arg-type]
    if cold:
        inst_ax.plot([], [], color=COLORS["cold"], linewidth=1, label="cold start")
    inst_ax.set_ylim(0, max([*seen, 1]) * 1.25 + 0.25)
    inst_ax.yaxis.get_major_locator().set_params(integer=True)
    inst_ax.set_ylabel("instances")
    inst_ax.set_xlabel("time since start of run (s) — when the request was sent")
    inst_ax.grid(True, alpha=0.3)
    inst_ax.legend(loc="lower right", fontsize=8, framealpha=0.85)
    if not any(seen):
        inst_ax.text(
            0.5,
            0.5,
            "no X-Instance-Id headers in the responses",
            ha="center",
            va="center",
            transform=inst_ax.transAxes,
            fontsize=9,
        )
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _bucket_medians(
    ok: Sequence[rec.RequestRecord], width: float, span: float
) -> tuple[list[float], list[float]]:
    n = max(1, math.ceil(span / width))
    buckets: list[list[float]] = [[] for _ in range(n)]
    for r in ok:
        buckets[min(int(r.sent_s // width), n - 1)].append(r.latency_ms)  # type: ignore[operator,arg-type]
    starts, medians = [], []
    for b, values in enumerate(buckets):
        if values:
            starts.append(b * width)
            medians.append(median(values))
    if starts:  # close the last step at the end of its bucket
        starts.append(starts[-1] + width)
        medians.append(medians[-1])
    return starts, medians  # type: ignore[return-value]


def plot_distribution(records: Sequence[rec.RequestRecord], report: Mapping, path: Path) -> Path:
    latencies = sorted(
        r.latency_ms
        for r in records  # type: ignore[type-var]
        if r.outcome == rec.OK and r.latency_ms is not None
    )
    fig, (hist_ax, cdf_ax) = plt.subplots(1, 2, figsize=(11, 4.5), dpi=110)
    if latencies:
        log = _use_log(latencies)
        if log:
            low, high = math.log10(latencies[0]), math.log10(latencies[-1])
            bins = [10 ** (low + (high - low) * i / 40) for i in range(41)]
            hist_ax.set_xscale("log")
            cdf_ax.set_xscale("log")
        else:
            bins = 40  # type: ignore[assignment]
        hist_ax.hist(latencies, bins=bins, color=COLORS["ok"], alpha=0.8)
        n = len(latencies)
        cdf_ax.step(
            latencies,
            [(i + 1) / n for i in range(n)],
            where="post",
            color=COLORS["ok"],
            linewidth=1.6,
            label="fraction of requests ≤ x",
        )
        for p, color in PCT_STYLES:
            value = percentile(latencies, p)
            hist_ax.axvline(
                value, color=color, linestyle="--", linewidth=1.3, label=f"p{p} = {value:,.1f} ms"
            )
            cdf_ax.axhline(p / 100, color=color, linestyle=":", linewidth=1)
            cdf_ax.plot([value], [p / 100], marker="o", color=color, label=f"p{p} = {value:,.1f} ms")
        hist_ax.legend(fontsize=8)
        cdf_ax.legend(fontsize=8, loc="lower right")
    else:
        for ax in (hist_ax, cdf_ax):
            ax.text(0.5, 0.5, "no successful requests", ha="center", va="center", transform=ax.transAxes)
    hist_ax.set_title(f"Histogram ({len(latencies)} successful requests)", fontsize=10)
    hist_ax.set_xlabel("client latency (ms)")
    hist_ax.set_ylabel("requests")
    cdf_ax.set_title("Cumulative distribution", fontsize=10)
    cdf_ax.set_xlabel("client latency (ms)")
    cdf_ax.set_ylabel("fraction of requests")
    cdf_ax.set_ylim(0, 1.02)
    for ax in (hist_ax, cdf_ax):
        ax.grid(True, alpha=0.3)
    fig.suptitle(_title("Latency distribution", report), fontsize=11)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _title(what: str, report: Mapping) -> str:
    run = report.get("run", {})
    mode = (
        f"open loop {run['rps']:g} req/s"
        if run.get("rps") is not None
        else f"closed loop ×{run.get('concurrency')}"
        if run.get("concurrency")
        else ""
    )
    where = run.get("url", "")
    heading = f"{what} — {where}" + (f" ({mode}, {run.get('duration_s')} s)" if mode else "")
    return heading + "\n" + textwrap.fill(target_line(run.get("target")), width=110)


def write_plots(records: Sequence[rec.RequestRecord], report: Mapping, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    return [
        plot_timeline(records, report, out_dir / TIMELINE),
        plot_distribution(records, report, out_dir / DISTRIBUTION),
    ]
