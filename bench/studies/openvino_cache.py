"""Does OpenVINO's compiled-model cache pay on a fresh start? Compile time vs cache import.

    python -m bench.studies.openvino_cache [--starts 3] [--precisions fp32,bf16,int8]

For each precision of the DistilBERT-base-shaped model baked for runtime openvino
(models/distilbert-base-openvino-<precision>, bench/studies/runtimes.py ensure_baked), fresh server
processes (`python -m service`, bench.coldstart.time_start), alternating:

* `off`: no OPENVINO_CACHE_DIR - the model is compiled at every start;
* `hit`: OPENVINO_CACHE_DIR filled by one earlier start - the blob is checksummed and imported.

Also the first start that fills the cache (`miss`: compile + write + checksum), the blob's
size, and the backend's own load time from the worker's log ("openvino model compiled",
load_ms). On Cloud Run a fresh instance has an empty /tmp (and /tmp is memory), so only a
blob shipped in the image could be a hit there - and only on the CPU it was compiled for.
Writes bench/out/openvino-cache/openvino_cache.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
from pathlib import Path

from bench.coldstart import time_start
from bench.models import ROOT
from bench.studies.common import cpu_description
from bench.studies.runtimes import ensure_baked

OUT = ROOT / "bench" / "out" / "openvino-cache"


def _load_ms(log: Path) -> float | None:
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if '"openvino model compiled"' in line:
            try:
                return json.loads(line).get("load_ms")
            except ValueError:
                return None
    return None


def one(model_dir: Path, env: dict, log: Path) -> dict:
    timing = time_start(model_dir, {**env, "LOG_LEVEL": "INFO"}, log_path=log)
    return {"first_answer_s": round(timing.first_answer_s, 3), "load_ms": _load_ms(log)}


def run(args: argparse.Namespace) -> dict:
    base = {"NUM_THREADS": str(args.threads), "CONCURRENCY": "1"}
    results = {}
    for precision in args.precisions:
        model_dir = ensure_baked("openvino", precision)
        cache = args.out / f"cache-{precision}"
        shutil.rmtree(cache, ignore_errors=True)
        logs = args.out / precision
        logs.mkdir(parents=True, exist_ok=True)
        miss = one(model_dir, {**base, "OPENVINO_CACHE_DIR": str(cache)}, logs / "miss.log")
        blob_mb = round(sum(p.stat().st_size for p in cache.glob("*.blob")) / 1e6, 1)
        runs: dict[str, list[dict]] = {"off": [], "hit": []}
        for i in range(args.starts):
            for mode in ("off", "hit") if i % 2 == 0 else ("hit", "off"):
                env = {**base, "OPENVINO_CACHE_DIR": str(cache)} if mode == "hit" else base
                runs[mode].append(one(model_dir, env, logs / f"{mode}-{i}.log"))
        results[precision] = {
            "miss": miss,
            "blob_mb": blob_mb,
            **{
                mode: {
                    "first_answer_s_median": statistics.median(r["first_answer_s"] for r in values),
                    "load_ms_median": statistics.median(r["load_ms"] or 0 for r in values),
                    "runs": values,
                }
                for mode, values in runs.items()
            },
        }
        print(f"{precision}: {json.dumps(results[precision])}", file=sys.stderr)
    return results


def render_markdown(result: dict) -> str:
    lines = [
        f"CPU: {result['cpu'].get('Model name', '?')}, {result['threads']} threads; load average "
        f"{result['load_average']}.",
        "",
        "| precision | compile every start: first answer (backend load) "
        "| cache hit: first answer (backend load) | first start filling the cache | blob |",
        "|---|---|---|---|---|",
    ]
    for precision, r in result["results"].items():
        off, hit, miss = r["off"], r["hit"], r["miss"]
        lines.append(
            f"| {precision} | {off['first_answer_s_median']:.2f} s ({off['load_ms_median']:.0f} ms) | "
            f"{hit['first_answer_s_median']:.2f} s ({hit['load_ms_median']:.0f} ms) | "
            f"{miss['first_answer_s']:.2f} s ({miss['load_ms'] or 0:.0f} ms) | {r['blob_mb']:.0f} MB |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.studies.openvino_cache")
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--precisions", default="fp32,bf16,int8")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    args.precisions = args.precisions.split(",")
    args.out.mkdir(parents=True, exist_ok=True)
    before = os.getloadavg()
    results = run(args)
    cpu = cpu_description()
    result = {
        "cpu": {k: v for k, v in cpu.items() if k != "Flags"},
        "threads": args.threads,
        "load_average": [round(x, 1) for x in (*before, *os.getloadavg())],
        "results": results,
        "command": "python -m bench.studies.openvino_cache "
        + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    (args.out / "openvino_cache.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(render_markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
