"""The runtimes study's verdict: its targets (relative to torch fp32 in the same run) and the
markdown report service/README.md quotes (`python -m bench.studies.runtimes` writes both).
"""

from __future__ import annotations

from bench.studies.common import TARGETS
from service import routes

# The ONNX runtime's targets, relative to torch fp32 measured in the same run.
INT8_P50_RATIO = 0.5  # at ~380 and ~2,800 tokens
START_S = 1.0
START_RATIO = 0.3
RSS_RATIO = 0.5
SITE_PACKAGES_RATIO = 0.3
OVERHEAD_MS_AT_25 = 5.0  # the serving study's, re-checked with ONNX


def check_targets(results: dict, sizes: dict | None) -> dict:
    torch_r, fp32, int8 = results["torch fp32"], results["onnx fp32"], results["onnx int8"]
    checks = {}

    def ratio(a: float, b: float) -> float:
        return round(a / b, 3)

    for name in ("medium", "large"):
        t, i = torch_r["payloads"][name]["http_ms"]["p50"], int8["payloads"][name]["http_ms"]["p50"]
        checks[f"int8_p50_{name}_vs_torch"] = (ratio(i, t), INT8_P50_RATIO, f"{i:.1f} / {t:.1f} ms")
    for name in TARGETS:
        t, f = torch_r["payloads"][name]["http_ms"]["p50"], fp32["payloads"][name]["http_ms"]["p50"]
        checks[f"onnx_fp32_p50_{name}_vs_torch"] = (ratio(f, t), 1.0, f"{f:.1f} / {t:.1f} ms")
    checks["int8_start_s"] = (int8["start_s_median"], START_S, "median of fresh starts")
    checks["int8_start_vs_torch"] = (
        ratio(int8["start_s_median"], torch_r["start_s_median"]),
        START_RATIO,
        f"{int8['start_s_median']} / {torch_r['start_s_median']} s",
    )
    i_rss, t_rss = int8["peak_rss_mb"]["worker_mb"], torch_r["peak_rss_mb"]["worker_mb"]
    checks["int8_peak_rss_vs_torch"] = (ratio(i_rss, t_rss), RSS_RATIO, f"{i_rss} / {t_rss} MB")
    overhead = int8["payloads"]["small"]["overhead_ms"]
    checks["int8_overhead_25_tokens_ms"] = (overhead, OVERHEAD_MS_AT_25, "HTTP p50 - raw session.run p50")
    if sizes:
        o, t = sizes["onnx"]["without_pip_mb"], sizes["torch"]["without_pip_mb"]
        checks["site_packages_onnx_vs_torch"] = (ratio(o, t), SITE_PACKAGES_RATIO, f"{o} / {t} MB")
    return {
        name: {"measured": m, "target": limit, "met": m is not None and m <= limit, "detail": detail}
        for name, (m, limit, detail) in checks.items()
    }


def render_markdown(result: dict) -> str:
    cpu = result["cpu"]
    lines = [
        f"Command: `{result['command']}`; {result['threads']} threads, CONCURRENCY=1; CPU: "
        f"{cpu.get('Model name', '?')}, {cpu.get('cpus_available')} vCPUs.",
        "",
        "| configuration | payload | tokens (windows) | HTTP p50 | HTTP p99 | raw forward p50 | HTTP - raw "
        "| server tokenize / inference / decode (p50) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, r in result["configs"].items():
        for name, p in r["payloads"].items():
            server = p["server_ms"]
            lines.append(
                f"| {label} | {name} | {p['tokens']} ({p['windows']}) | {p['http_ms']['p50']:.1f} ms "
                f"| {p['http_ms']['p99']:.1f} ms (n={p['http_ms']['n']}) "
                f"| {p['raw_batched_ms']['p50']:.1f} ms "
                f"| {p['overhead_ms']:+.1f} ms | {server.get('tokenize', 0):.2f} / "
                f"{server.get('inference', 0):.1f} / {server.get('decode', 0):.2f} ms |"
            )
    lines += [
        "",
        "| configuration | start -> first answer (median, runs) | worker peak RSS | model file "
        f"| MAX_BATCH_WINDOWS | GET {routes.HEALTH} round trip p50 |",
        "|---|---|---|---|---|---|",
    ]
    for label, r in result["configs"].items():
        runs = ", ".join(f"{s['first_answer_s']:.2f}" for s in r["starts"])
        lines.append(
            f"| {label} | {r['start_s_median']} s ({runs}) | {r['peak_rss_mb']['worker_mb']} MB "
            f"| {r['model_file_mb']} MB | {r['max_batch_windows']} | {r.get('health_round_trip_ms_p50')} ms |"
        )
    if result.get("site_packages"):
        lines += ["", "| runtime image | site-packages | without pip/setuptools | largest |"]
        lines += ["|---|---|---|---|"]
        for runtime, s in result["site_packages"].items():
            lines.append(
                f"| {runtime} | {s['site_packages_mb']} MB | {s['without_pip_mb']} MB "
                f"| {', '.join(s['largest'][:4])} |"
            )
    if result.get("targets"):
        lines += ["", "| target | measured | limit | met | detail |", "|---|---|---|---|---|"]
        for name, t in result["targets"].items():
            met = "yes" if t["met"] else "**no**"
            lines.append(f"| {name} | {t['measured']} | {t['target']} | {met} | {t['detail']} |")
    return "\n".join(lines)
