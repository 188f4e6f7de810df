"""`python -m bench coldstart`: N fresh service processes, process start → first answer, and
where each start went (the service's start-up phases, bench.startup_phases).

With `--image IMAGE`: N fresh containers of that image instead, run as the platform runs them
(bench.image_coldstart), plus peak memory and the image's size; image.json + a markdown row.

The timing itself is `bench.coldstart.measure_start` (the service's own start-up timer);
this command chooses the model, runs it, and reports the distribution: coldstart.json, a
markdown summary and coldstart.png.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

from bench import startup_phases, target
from bench.cli_common import CliError, parse_env, positive_int
from bench.demo import PRESETS
from bench.models import ensure_baked
from qaclient.stats import PERCENTILE_METHOD, summarize
from service import routes
from service.bake.manifest import PRECISIONS, RUNTIMES

DEFAULT_OUT = Path("bench/out/coldstart")
PLOT = "coldstart.png"


def add_coldstart(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "coldstart",
        help="start the service N times locally: process start → first answer",
        description="Start `python -m service` RUNS times, each a fresh process, and time process "
        f"start → first 200 from POST {routes.PREDICT}. Writes coldstart.json and coldstart.png.",
    )
    model = p.add_mutually_exclusive_group()
    model.add_argument("--model-dir", type=Path, help="checkpoint to serve")
    model.add_argument(
        "--preset",
        choices=PRESETS,
        default="distilbert-base",
        help="generate a random-weight model (default distilbert-base)",
    )
    p.add_argument(
        "--runtime",
        choices=RUNTIMES,
        default="onnx",
        help="bake the generated model for this runtime (default onnx)",
    )
    p.add_argument("--precision", choices=PRECISIONS, default="fp32", help="default fp32 (int8: onnx only)")
    model.add_argument("--image", help="time fresh containers of this image instead (podman or docker)")
    p.add_argument("--stack", default="dev", help="--image: memory limit of this stack (default dev)")
    p.add_argument("--base", default="", help="--image: base image for the size split (default: the build's)")
    p.add_argument("--runs", type=positive_int, default=5, help="fresh processes to time (default 5)")
    p.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment for the service (repeatable), e.g. OMP_NUM_THREADS=2",
    )
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR", help=f"default {DEFAULT_OUT}")
    p.set_defaults(handler=cmd_coldstart)


def summary(seconds: Sequence[float]) -> dict:
    return {
        "runs_s": [round(s, 4) for s in seconds],
        "seconds": {k: (round(v, 4) if isinstance(v, float) else v) for k, v in summarize(seconds).items()},
        "percentiles": PERCENTILE_METHOD,
    }


def render_markdown(result: dict) -> str:
    s = result["seconds"]
    runs = ", ".join(f"{v:.2f}" for v in result["runs_s"])
    return (
        f"## Cold start: process start → first answer ({result['model']})\n\n"
        f"{target.target_line(result.get('target'))}\n\n"
        f"| runs | min | p50 | p90 | max | mean |\n|---|---|---|---|---|---|\n"
        f"| {s['count']} | {s['min']:.2f} s | {s['p50']:.2f} s | {s['p90']:.2f} s | {s['max']:.2f} s "
        f"| {s['mean']:.2f} s |\n\nEach run (s): {runs}\n\n"
        "### Where the start went\n\n"
        + startup_phases.markdown_table(result.get("phases_s", []), result["runs_s"])
    )


def plot(result: dict, path: Path) -> Path:
    import matplotlib  # noqa: PLC0415 — only this command draws

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    runs = result["runs_s"]
    fig, (dots, hist) = plt.subplots(1, 2, figsize=(10, 3.8), dpi=110)
    dots.plot(range(1, len(runs) + 1), runs, "o-", color="#ff7f0e")
    dots.axhline(
        result["seconds"]["p50"],
        color="#2ca02c",
        linestyle="--",
        label=f"p50 = {result['seconds']['p50']:.2f} s",
    )
    dots.set_xlabel("run (a fresh process each)")
    dots.set_ylabel("process start → first answer (s)")
    dots.set_ylim(bottom=0)
    dots.legend(fontsize=8)
    hist.hist(runs, bins=min(20, max(5, len(runs))), color="#ff7f0e", alpha=0.8)
    hist.set_xlabel("process start → first answer (s)")
    hist.set_ylabel("runs")
    dots.xaxis.get_major_locator().set_params(integer=True)
    hist.yaxis.get_major_locator().set_params(integer=True)
    for ax in (dots, hist):
        ax.grid(True, alpha=0.3)
    label = textwrap.fill(target.target_line(result.get("target")), width=100)
    fig.suptitle(f"Local cold start, {len(runs)} runs — {result['model']}\n{label}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def cmd_image_coldstart(args: argparse.Namespace) -> int:
    from bench import containers  # noqa: PLC0415
    from bench.image_coldstart import measure, render_markdown  # noqa: PLC0415
    from infra.settings import settings_from_stack_files  # noqa: PLC0415

    memory_mib = int(settings_from_stack_files(args.stack).service.memory_mib)
    print(f"timing {args.runs} fresh container(s) of {args.image} …", file=sys.stderr)
    try:
        result = measure(args.image, args.runs, memory_mib, base=args.base)
    except containers.EngineError as exc:
        raise CliError(str(exc)) from None
    args.out.mkdir(parents=True, exist_ok=True)
    name = args.image.replace("/", "_").replace(":", "_")
    (args.out / f"image-{name}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(render_markdown(result))
    print(f"wrote {args.out / f'image-{name}.json'}", file=sys.stderr)
    return 0


def cmd_coldstart(args: argparse.Namespace) -> int:
    if args.image:
        return cmd_image_coldstart(args)
    try:
        from bench.coldstart import measure_timings  # noqa: PLC0415 — the service side's timer
    except ImportError as exc:
        raise CliError(f"bench/coldstart.py (the start-up timer) is not available: {exc}") from None
    env = parse_env(args.env)
    model = args.model_dir or ensure_baked(args.preset, args.runtime, args.precision)
    if not (Path(model) / "config.json").is_file():
        raise CliError(f"{model} has no config.json: not a checkpoint directory")
    print(f"timing {args.runs} fresh start(s) of the service on {model} …", file=sys.stderr)
    timings = measure_timings(Path(model), args.runs, env or None)
    if not timings:
        raise CliError("measure_timings returned no timings")
    seconds = [timing.first_answer_s for timing in timings]
    phases = [timing.phases for timing in timings if timing.phases is not None]
    result = {
        "model": str(model),
        "target": target.from_model_dir(Path(model)),
        **summary(seconds),
        "phases_s": phases,
        "phases_median_s": startup_phases.medians(phases),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "coldstart.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    plot(result, args.out / PLOT)
    print(render_markdown(result))
    print(f"wrote {args.out / 'coldstart.json'} and {args.out / PLOT}", file=sys.stderr)
    return 0
