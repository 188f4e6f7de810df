"""Speed and memory of the QA service: HTTP latency vs the raw forward pass.

    python -m bench.studies.serving                      # or: make bench-serving
    python -m bench.studies.serving --samples 200,60,20 --starts 3 --out bench/out/serving

On a DistilBERT-base-shaped random-weight model (bench/fake_model.py, cached under
models/distilbert-base), it measures in ONE run, interleaved so a noisy shared machine hurts
both sides alike:

* p50/p99 latency of POST /predict through the real server (`python -m service`: gunicorn,
  Flask, tokenization, batched forward, span decoding) at ~25, ~380 and ~2,800 tokens;
* the raw `model(**inputs)` forward pass on the same windows, in this process, with the same
  thread count - batched like the service, and window by window like the 4.x pipeline;
* process start -> first answer (bench.coldstart.time_start, fresh processes);
* the worker's peak RSS (VmHWM) after all of it.

and checks the service's targets: overhead <= 10 % at 380 tokens and <= 5 ms at 25 tokens, long
contexts no slower than their windows' forward passes, start <= 2.5 s, peak RSS <= 700 MB.
Writes serving.json and prints a markdown report (service/README.md quotes it).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from bench.local_service import peak_rss_mb
from bench.models import ROOT, ensure_model
from bench.studies.common import (
    TARGETS,
    Client,
    Payload,
    build_payloads,
    cpu_description,
    measure_starts,
    raw_forward,
    start_server,
    study_parser,
    summarise,
)

DEFAULT_OUT = ROOT / "bench" / "out" / "serving"
OVERHEAD_PCT_AT_380 = 10.0
OVERHEAD_MS_AT_25 = 5.0
START_S = 2.5
PEAK_RSS_MB = 700.0


def measure_interleaved(args: argparse.Namespace, model_dir: Path, env: dict[str, str], threads: int):
    """HTTP and raw forward passes in alternation; returns (payloads, peak RSS of the server)."""
    import torch  # noqa: PLC0415 - the raw baseline
    from transformers import AutoModelForQuestionAnswering  # noqa: PLC0415

    from service.qa.tokenization import QATokenizer  # noqa: PLC0415

    tokenizer = QATokenizer(model_dir)
    payloads = build_payloads(tokenizer)
    torch.set_num_threads(threads)
    model = AutoModelForQuestionAnswering.from_pretrained(str(model_dir), local_files_only=True).eval()
    names = ("input_ids", "attention_mask")
    bodies = {p.name: json.dumps({"question": p.question, "context": p.context}).encode() for p in payloads}
    arrays = {p.name: tokenizer.windows(p.question, p.context, names).arrays for p in payloads}
    samples = dict(zip(TARGETS, args.samples, strict=True))

    def http(p: Payload) -> None:
        elapsed, timing, _ = client.predict(bodies[p.name])
        p.http_ms.append(elapsed)
        for name, value in timing.items():
            p.server_ms.setdefault(name, []).append(value)

    def raw(p: Payload) -> None:
        p.raw_batched_ms.append(raw_forward(model, torch, arrays[p.name], args.batch_windows))
        if p.windows > 1:
            p.raw_windows_ms.append(raw_forward(model, torch, arrays[p.name], None))

    process, port = start_server(model_dir, env, args.out / "server.log")
    try:
        client = Client(port)
        for p in payloads:  # warm both sides on every shape
            for _ in range(2):
                client.predict(bodies[p.name])
                raw_forward(model, torch, arrays[p.name], args.batch_windows)
        for round_no in range(max(samples.values())):
            for p in (p for p in payloads if round_no < samples[p.name]):
                # Alternate who goes first; idle gaps let the other process's OpenMP threads
                # stop spin-waiting, which would otherwise steal the vCPUs from the next run.
                for side in (http, raw) if round_no % 2 == 0 else (raw, http):
                    time.sleep(args.gap_ms / 1000)
                    side(p)
            if round_no % 10 == 9:
                print(f"round {round_no + 1}/{max(samples.values())}", file=sys.stderr)
        rss = peak_rss_mb(process.pid)
    finally:
        process.terminate()
        process.wait(30)
    return payloads, rss


def run(args: argparse.Namespace) -> dict:
    from service.cpus import available_cpus  # noqa: PLC0415

    model_dir = args.model_dir or ensure_model()
    threads = args.threads or available_cpus()
    env = {"NUM_THREADS": str(threads), "CONCURRENCY": "1", "MAX_BATCH_WINDOWS": str(args.batch_windows)}
    starts = measure_starts(model_dir, env, args.starts, args.out)
    payloads, rss = measure_interleaved(args, model_dir, env, threads)
    results = {p.name: summarise(p) for p in payloads}
    start_s = [s["first_answer_s"] for s in starts]
    large = results["large"]
    checks = {
        "overhead_380_pct": (results["medium"]["overhead_pct"], OVERHEAD_PCT_AT_380),
        "overhead_25_ms": (results["small"]["overhead_ms"], OVERHEAD_MS_AT_25),
        "long_context_vs_its_window_forwards_ms": (
            large["http_ms"]["p50"],
            large.get("raw_windows_ms", {}).get("p50"),
        ),
        "start_to_first_answer_s": (round(statistics.median(start_s), 2) if start_s else None, START_S),
        "peak_rss_worker_mb": (round(rss["worker_mb"], 1), PEAK_RSS_MB),
    }
    targets = {}
    for name, (measured, limit) in checks.items():
        met = measured is not None and limit is not None and measured <= limit
        targets[name] = {"measured": measured, "target": limit, "met": met}
    return {
        "command": "python -m bench.studies.serving " + " ".join(args.argv),
        "model_dir": str(model_dir),
        "threads": threads,
        "max_batch_windows": args.batch_windows,
        "cpu": cpu_description(),
        "payloads": results,
        "starts": starts,
        "peak_rss_mb": {k: round(v, 1) for k, v in rss.items()},
        "targets": targets,
    }


def render_markdown(result: dict) -> str:
    cpu = result["cpu"]
    lines = [
        f"Command: `{result['command']}`; {result['threads']} torch threads, "
        f"MAX_BATCH_WINDOWS={result['max_batch_windows']}; CPU: {cpu.get('Model name', '?')}, "
        f"{cpu.get('cpus_available')} vCPUs.",
        "",
        "| payload | tokens (windows) | HTTP p50 | HTTP p99 | raw forward p50, as served "
        "| raw forward p50, window by window | HTTP - raw | HTTP - server inference "
        "| server total / inference / tokenize / decode (p50) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in result["payloads"].items():
        server = r["server_ms"]
        per_window = r.get("raw_windows_ms", {}).get("p50")
        per_window_text = f"{per_window:.1f} ms" if per_window else "-"
        lines.append(
            f"| {name} | {r['tokens']} ({r['windows']}) | {r['http_ms']['p50']:.1f} ms "
            f"| {r['http_ms']['p99']:.1f} ms (n={r['http_ms']['n']}) | {r['raw_batched_ms']['p50']:.1f} ms "
            f"| {per_window_text} | {r['overhead_ms']:+.1f} ms ({r['overhead_pct']:+.1f} %) "
            f"| {r['overhead_vs_server_inference_ms']:+.1f} ms "
            f"| {server.get('total', 0):.1f} / {server.get('inference', 0):.1f} / "
            f"{server.get('tokenize', 0):.2f} / {server.get('decode', 0):.2f} ms |"
        )
    lines += ["", "| target | measured | limit | met |", "|---|---|---|---|"]
    for name, t in result["targets"].items():
        lines.append(f"| {name} | {t['measured']} | {t['target']} | {'yes' if t['met'] else '**no**'} |")
    lines += ["", f"Starts: {result['starts']}", f"Server peak RSS (VmHWM): {result['peak_rss_mb']} MB"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = study_parser(
        "python -m bench.studies.serving", __doc__, samples=[200, 60, 20], starts=3, out=DEFAULT_OUT
    )
    parser.add_argument("--model-dir", type=Path, help="default: generated models/distilbert-base")
    parser.add_argument(
        "--batch-windows", type=int, default=2, help="MAX_BATCH_WINDOWS of the service and the baseline"
    )
    args = parser.parse_args(argv)
    args.argv = argv
    if len(args.samples) != len(TARGETS):
        parser.error("--samples takes three numbers: small,medium,large")
    args.out.mkdir(parents=True, exist_ok=True)
    result = run(args)
    (args.out / "serving.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(render_markdown(result))
    print(f"wrote {args.out / 'serving.json'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
