"""What `precision: auto` costs at start, and whether its probe ranks bf16 and f32 as the model does.

    python -m bench.studies.precision_probe [--decisions 7] [--passes 5] [--threads 2]

1. Cost: `openvino_precision.decide` run --decisions times in this process (the probe compiled
   with the backend's `probe_config`, warmed and timed each time, exactly as an instance does at
   start; --threads is for step 2 only), wall time and the process's CPU time of each; medians.
   The first call also loads OpenVINO's CPU plugin, which a start pays anyway (the model is
   compiled next), so it is reported apart.
2. Agreement: the DistilBERT-base-shaped random checkpoint baked as `auto`
   (models/distilbert-base-openvino-auto) compiled with the bf16 and the f32 hint, --passes
   forward passes of one full window (1 x 384) and of a padded batch of two (2 x 384, what a
   long context runs as) alternating between the two; fastest pass each. The probe's
   bf16/f32 ratio from step 1 against the model's: the same side of 1 means the probe chose as
   timing the model would have.

Prints one JSON object with the CPU (model, family/model, AVX-512/VNNI/BF16/AMX) and the load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

from bench.models import ensure_baked
from service.cpu_platform import this_cpu


def decision_costs(runs: int) -> dict:
    import openvino as ov  # noqa: PLC0415

    from service.qa.backends import openvino_precision  # noqa: PLC0415
    from service.qa.backends.openvino_backend import probe_config  # noqa: PLC0415

    core = ov.Core()
    records = []
    for _ in range(runs + 1):
        wall, cpu = time.perf_counter(), time.process_time()
        choice = openvino_precision.decide(core, probe_config, has_bf16=True)
        records.append(
            {
                "wall_ms": round((time.perf_counter() - wall) * 1000, 1),
                "cpu_ms": round((time.process_time() - cpu) * 1000, 1),
                "chosen": choice.chosen,
                "probe_ms": choice.probe_ms,
                "rounds": choice.rounds,
                "timed_by": choice.timed_by,
            }
        )
    first, rest = records[0], records[1:]
    ratios = [r["probe_ms"]["bf16"] / r["probe_ms"]["fp32"] for r in rest]
    return {
        "first_call_with_plugin_load": first,
        "decisions": rest,
        "median_wall_ms": statistics.median(r["wall_ms"] for r in rest),
        "median_cpu_ms": statistics.median(r["cpu_ms"] for r in rest),
        "median_probe_bf16_over_fp32": round(statistics.median(ratios), 3),
        "rounds": sorted(r["rounds"] for r in rest),
        "chosen": sorted({r["chosen"] for r in rest}),
    }


def model_ratios(passes: int, threads: int) -> dict:
    import openvino as ov  # noqa: PLC0415

    from service.qa.backends.openvino_backend import compile_config  # noqa: PLC0415

    model_dir = ensure_baked("distilbert-base", "openvino", "auto")
    core = ov.Core()
    compiled = {
        name: core.compile_model(str(model_dir / "model.xml"), "CPU", compile_config(threads, hint, None))
        for name, hint in (("bf16", "bf16"), ("fp32", "f32"))
    }
    names = [port.get_any_name() for port in compiled["fp32"].inputs]
    result = {}
    for batch in (1, 2):
        feeds = {name: np.full((batch, 384), 1000, dtype=np.int64) for name in names}
        if "attention_mask" in feeds:
            feeds["attention_mask"][:] = 1
        requests = {name: c.create_infer_request() for name, c in compiled.items()}
        timings: dict[str, list[float]] = {name: [] for name in requests}
        for i in range(passes + 1):  # the first pass of each sets up kernels: dropped by min()
            for name in requests if i % 2 == 0 else reversed(list(requests)):
                t0 = time.perf_counter()
                requests[name].infer(feeds)
                timings[name].append((time.perf_counter() - t0) * 1000)
        best = {name: round(min(values), 1) for name, values in timings.items()}
        result[f"{batch}x384"] = {"fastest_ms": best, "bf16_over_fp32": round(best["bf16"] / best["fp32"], 3)}
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.studies.precision_probe", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--decisions", type=int, default=7)
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    args = parser.parse_args(argv)
    print(f"CPU: {this_cpu().summary()}", file=sys.stderr)
    load_before = os.getloadavg()
    result = {
        "cpu": this_cpu().as_json(),
        "threads": args.threads,
        "cost": decision_costs(args.decisions),
        "model": model_ratios(args.passes, args.threads),
        "load_average": [round(x, 1) for x in (*load_before, *os.getloadavg())],
        "command": "python -m bench.studies.precision_probe "
        + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
