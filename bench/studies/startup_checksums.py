"""What hashing MODEL_DIR at every start costs, phase by phase: VERIFY_CHECKSUMS on and off.

    python -m bench.studies.startup_checksums [--runs 5] [--models openvino-bf16,onnx-int8]

For each model (the DistilBERT-base-shaped model baked for RUNTIME-PRECISION under models/,
bench.models.ensure_baked), fresh server processes (`python -m service`, bench.coldstart.time_start)
alternate between VERIFY_CHECKSUMS=1 and 0, round by round, so a loaded machine slows both alike.
Prints, per (model, setting), the median process start → first answer and the median of each
start-up phase (bench.startup_phases), and writes bench/out/startup-checksums/startup_checksums.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys

from bench.coldstart import time_start
from bench.models import ROOT, ensure_baked
from bench.startup_phases import AFTER, COLUMNS, medians

OUT = ROOT / "bench" / "out" / "startup-checksums"
SETTINGS = ("1", "0")


def run(models: list[str], runs: int, threads: str) -> dict[str, dict]:
    dirs = {name: ensure_baked("distilbert-base", *name.split("-", 1)) for name in models}
    rows: dict[str, list] = {f"{m} VERIFY_CHECKSUMS={v}": [] for m in models for v in SETTINGS}
    for index in range(runs):
        for name, model_dir in dirs.items():
            for value in SETTINGS:
                timing = time_start(model_dir, {"VERIFY_CHECKSUMS": value, "NUM_THREADS": threads})
                key = f"{name} VERIFY_CHECKSUMS={value}"
                rows[key].append(timing)
                print(f"round {index + 1}/{runs} {key}: {timing.first_answer_s:.3f} s", file=sys.stderr)
    return {
        key: {
            "runs_s": [round(t.first_answer_s, 4) for t in timings],
            "median_s": round(statistics.median(t.first_answer_s for t in timings), 4),
            "phases_median_s": medians([t.phases for t in timings if t.phases]),
        }
        for key, timings in rows.items()
    }


def markdown(result: dict[str, dict]) -> str:
    head = "| model, setting | start → first answer | " + " | ".join(COLUMNS) + " | accounted |\n"
    rows = []
    for key, row in result.items():
        phases, total = row["phases_median_s"], row["median_s"]
        cells = " | ".join(f"{phases.get(name, 0):.3f}" for name in COLUMNS)
        accounted = 1 - phases.get(AFTER, 0) / total if total else 0
        rows.append(f"| {key} | {total:.3f} s | {cells} | {accounted:.0%} |")
    return head + "|" + "---|" * (len(COLUMNS) + 3) + "\n" + "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="rounds (default 5)")
    parser.add_argument("--models", default="openvino-bf16,onnx-int8", help="RUNTIME-PRECISION list")
    parser.add_argument("--threads", default="2", help="NUM_THREADS of the service (default 2)")
    args = parser.parse_args(argv)
    result = run(args.models.split(","), args.runs, args.threads)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "startup_checksums.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
