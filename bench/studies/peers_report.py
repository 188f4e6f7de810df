"""The peer study's results: medians per configuration, the targets, the table, a file per CPU.

Which CPU a run was made on decides its numbers (OpenVINO's bf16 is twice as fast as its f32
on one AVX512_BF16 CPU and 1.5x slower on another), so every result names its CPU (model,
family/model numbers, AVX-512/VNNI/BF16/AMX) and is kept in docs/bench/ under a file name made
from it: `peers-<cpu>.json` and `.md`, one per CPU.
"""

from __future__ import annotations

import re
import statistics
from typing import TYPE_CHECKING

from bench.studies.common import TARGETS

if TYPE_CHECKING:
    from bench.studies.peers import Config

# The targets, against the best peer of the same precision class in the same run.
LATENCY_RATIO = 1.0
START_RATIO = 0.25
RSS_RATIO = 0.6
SITE_PACKAGES_MB = 300
INT8_AGREEMENT = 0.95
# Precision classes a project row is compared with: the default (`auto`: bf16 or fp32, as the
# instance finds faster) against every full-precision peer; the others against their own class.
COMPARED_WITH = {"auto": ("default", "fp32"), "default": ("default",), "fp32": ("fp32",), "int8": ("int8",)}


def result_stem(cpu: dict) -> str:
    """`peers-amd-epyc-f26m2` from the CPU's model name and family/model numbers."""
    name = re.sub(r"[^a-z0-9]+", "-", str(cpu.get("model", "unknown")).lower()).strip("-") or "unknown"
    if cpu.get("family") is not None and cpu.get("model_number") is not None:
        name += f"-f{cpu['family']}m{cpu['model_number']}"
    return f"peers-{name}"


def summarise(all_configs: list[Config]) -> dict:
    rows = {}
    for c in all_configs:
        rows[c.label] = {
            "side": c.side,
            "class": c.klass,
            "p50_ms": {name: round(statistics.median(v), 1) for name, v in c.ms.items()},
            "samples": {name: len(v) for name, v in c.ms.items()},
            "start_s_median": round(statistics.median(s["first_answer_s"] for s in c.starts), 2)
            if c.starts
            else None,
            "starts_s": [s["first_answer_s"] for s in c.starts],
            "starts": c.starts,
            "peak_rss_mb": c.rss,
            "answer_medium": c.answers.get("medium"),
            **({"ready": c.ready} if c.ready else {}),
        }
    return rows


def check_targets(rows: dict, sizes: dict, agree: dict | None) -> dict:
    checks = {}
    peers = {k: v for k, v in rows.items() if v["side"] == "peer"}
    best_start = min(v["start_s_median"] for v in peers.values())
    best_rss = min(v["peak_rss_mb"]["worker_mb"] for v in peers.values())
    for label, row in rows.items():
        if row["side"] != "project":
            continue
        classes = COMPARED_WITH[row["class"]]
        same = [v for v in peers.values() if v["class"] in classes]
        for name in TARGETS if same else ():
            best = min(v["p50_ms"][name] for v in same)
            ratio = round(row["p50_ms"][name] / best, 2)
            checks[f"{label}: p50 {name} vs best {'/'.join(classes)} peer"] = (ratio, LATENCY_RATIO)
        checks[f"{label}: start vs best peer"] = (round(row["start_s_median"] / best_start, 2), START_RATIO)
        checks[f"{label}: peak RSS vs best peer"] = (
            round(row["peak_rss_mb"]["worker_mb"] / best_rss, 2),
            RSS_RATIO,
        )
    for name, size in sizes.items():
        if name.startswith("project"):
            checks[f"{name}: site-packages MB"] = (size["without_pip_mb"], SITE_PACKAGES_MB)
    if agree:
        for name, value in agree.items():
            if "int8" in name:
                checks[f"{name}: span agreement with fp32"] = (value["share"], INT8_AGREEMENT)
    return {
        name: {"measured": m, "target": t, "met": m >= t if "agreement" in name else m <= t}
        for name, (m, t) in checks.items()
    }


def _size_key(label: str) -> str:
    """Row label -> its venv in result["site_packages"] ("project onnx", "optimum-intel", ...)."""
    if label.startswith("project "):
        return " ".join(label.split()[:2])
    return "optimum-intel" if label.startswith("optimum-intel") else "optimum + ORT"


def cpu_line(result: dict) -> str:
    """The CPU as the report names it (reports from before family/model were recorded: lscpu's name)."""
    cpu = result["cpu"]
    if "summary" in cpu:
        return cpu["summary"]
    return f"{cpu.get('Model name', '?')} (flags of note: {', '.join(result.get('cpu_flags_of_note', []))})"


def auto_lines(result: dict) -> list[str]:
    """How each `auto` row decided: the probe's timings, its cost, what it ran."""
    lines = []
    for label, row in result["rows"].items():
        choice = row.get("ready", {}).get("precision_choice")
        if not choice:
            continue
        probe = ", ".join(f"{name} {ms:.1f} ms" for name, ms in choice["probe_ms"].items())
        decide = [s["decide_ms"] for s in row.get("starts", []) if s.get("decide_ms") is not None]
        cost = (
            f"; deciding took {statistics.median(decide):.0f} ms wall (median of {len(decide)} fresh starts)"
        )
        rounds = choice["rounds"]
        lines.append(
            f"* {label}: ran **{choice['chosen']}** (probe, fastest pass of {rounds} rounds: {probe})"
            + (cost if decide else "")
        )
        lines += _against_fixed(result["rows"], label)
    return lines


def _against_fixed(rows: dict, label: str) -> list[str]:
    """The auto row against the faster fixed precision of the same runtime, in the same run."""
    runtime = label.split()[1]
    fixed = [rows[f"project {runtime} {p}"] for p in ("bf16", "fp32") if f"project {runtime} {p}" in rows]
    if not fixed:
        return []
    auto = rows[label]
    ratios = ", ".join(
        f"{name} {auto['p50_ms'][name] / min(r['p50_ms'][name] for r in fixed):.2f}×" for name in TARGETS
    )
    starts = ", ".join(f"{r['start_s_median']:.2f} s" for r in fixed)
    return [
        f"  * p50 against the faster fixed precision: {ratios}; start → first answer "
        f"{auto['start_s_median']:.2f} s against {starts} (fixed bf16, fp32)"
    ]


def render_markdown(result: dict) -> str:
    lines = [
        f"CPU: {cpu_line(result)}, {result['threads']} threads. "
        f"Load average during the run: {result['load_average']}.",
        "",
        "| configuration | how timed | ~25 tok p50 | ~380 tok p50 | ~2,800 tok p50 | start → first answer | "
        "peak RSS | site-packages |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, row in result["rows"].items():
        size = result["site_packages"].get(_size_key(label)) or {}
        how = "HTTP (gunicorn)" if row["side"] == "project" else "in-process"
        p = row["p50_ms"]
        lines.append(
            f"| {label} | {how} | {p['small']:.0f} ms | {p['medium']:.0f} ms | {p['large'] / 1000:.2f} s | "
            f"{row['start_s_median']:.2f} s | {row['peak_rss_mb']['worker_mb']:.0f} MB | "
            f"{str(size.get('without_pip_mb', '')) + ' MB' if size else '—'} |"
        )
    if decisions := auto_lines(result):
        lines += ["", *decisions]
    if result.get("agreement"):
        lines += ["", "| precision | best spans equal to fp32 (golden cases) |", "|---|---|"]
        for name, value in result["agreement"].items():
            lines.append(f"| {name} | {value['agree']}/{value['total']} ({value['share']:.1%}) |")
    lines += ["", "| target | measured | limit | met |", "|---|---|---|---|"]
    for name, check in result["targets"].items():
        lines.append(
            f"| {name} | {check['measured']} | {check['target']} | {'yes' if check['met'] else 'no'} |"
        )
    return "\n".join(lines)
