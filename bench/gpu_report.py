"""The GPU check's verdict and table: the issue's targets against a `python -m bench gpu` report."""

from __future__ import annotations

from bench.gpu_measure import CONCURRENCY

# The GPU targets (docs/gpu.md).
BATCH1_VS_RAW_AT_380 = 1.3
THROUGHPUT_16_VS_1 = 4.0
P99_16_VS_BATCH1 = 3.0
FP16_AGREEMENT = 0.95


def check_targets(report: dict) -> dict:
    medium = report["latency"]["medium"]
    thr = report["throughput"]
    checks = {
        "batch-1 p50 / raw forward p50 at ~380 tokens": (
            medium["off_vs_raw_p50"],
            BATCH1_VS_RAW_AT_380,
            "<=",
        ),
        "batching on: throughput c16 / c1": (
            round(thr["on_c16"]["requests_per_s"] / thr["on_c1"]["requests_per_s"], 2),
            THROUGHPUT_16_VS_1,
            ">=",
        ),
        "batching on: p99 c16 / batch-1 p99 at ~380 tokens": (
            round(thr["on_c16"]["p99"] / medium["off_ms"]["p99"], 2),
            P99_16_VS_BATCH1,
            "<=",
        ),
        "fp16 spans agreeing with fp32": (report["fp16_agreement"]["share"], FP16_AGREEMENT, ">="),
    }
    return {
        name: {
            "measured": value,
            "target": f"{op} {limit}",
            "met": value <= limit if op == "<=" else value >= limit,
        }
        for name, (value, limit, op) in checks.items()
    }


def render_markdown(report: dict) -> str:
    lines = [
        f"`{report['command']}` on {report['device']} (torch {report['torch']}); "
        f"start -> first answer {report['start_to_first_answer_s']} s; GPU memory {report['memory_mb']} MB",
        "",
        "| size | tokens (windows) | raw forward p50 / p99 | batching off p50 / p99 | on p50 / p99 |",
        "|---|---|---|---|---|",
    ]
    for name, r in report["latency"].items():
        cells = [f"{r[f'{s}_ms']['p50']:.2f} / {r[f'{s}_ms']['p99']:.2f} ms" for s in ("raw", "off", "on")]
        lines.append(f"| {name} | {r['tokens']} ({r['windows']}) | " + " | ".join(cells) + " |")
    lines += ["", "| clients | off: req/s, p99 | on: req/s, p99, mean batch |", "|---|---|---|"]
    thr = report["throughput"]
    for c in CONCURRENCY:
        off, on = thr[f"off_c{c}"], thr[f"on_c{c}"]
        lines.append(
            f"| {c} | {off['requests_per_s']}, {off['p99']:.1f} ms "
            f"| {on['requests_per_s']}, {on['p99']:.1f} ms, {on['mean_batch_size']} |"
        )
    agreement = report["fp16_agreement"]
    lines += [
        "",
        f"fp16 vs fp32 spans: {agreement['agree']}/{agreement['cases']} golden cases agree",
        "",
        "| target | measured | limit | met |",
        "|---|---|---|---|",
    ]
    for name, t in report["targets"].items():
        lines.append(f"| {name} | {t['measured']} | {t['target']} | {'yes' if t['met'] else '**no**'} |")
    return "\n".join(lines)
