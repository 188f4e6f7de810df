"""`python -m bench demo` (what `make bench` runs): a short load test against a local service.

Without `--url` it generates a random-weight checkpoint (bench/fake_model.py; cached under
bench/out/models/), starts `python -m service` on it, runs the load, prints the report and
writes the plots. `--scale-out-at S` imitates Cloud Run adding an instance: the load goes
through a front-end proxy that gives each instance at most its concurrency (CONCURRENCY,
default 1) and queues the rest, and a second service process starts S seconds in. Requests
queued when it becomes ready go to it, so the plots show a cold start the way Cloud Run
users meet one.
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

from bench import cli_load, records
from bench.cli_common import CliError, parse_env, positive_float, seconds
from bench.load import LoadConfig, run_load
from bench.local_service import LocalService, ServiceStartError
from bench.payloads import load_payloads
from bench.proxy import FrontEndProxy
from bench.report import ColdStartRule, render_markdown

DEFAULT_OUT = Path("bench/out/demo")
MODELS = Path("bench/out/models")
PRESETS = ("tiny", "distilbert-base")


def add_demo(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "demo", help="short local load test (make bench): starts the service on a generated model",
        description=__doc__.split("\n\n")[1].replace("\n", " "),
    )  # fmt: skip
    p.add_argument("--url", help="load-test this running service instead of starting one")
    p.add_argument("--preset", choices=PRESETS, default="tiny",
                   help="model to generate (default tiny; distilbert-base: realistic timings)")  # fmt: skip
    p.add_argument("--model-dir", type=Path, help="serve this checkpoint instead of generating one")
    p.add_argument("--rps", type=positive_float, default=10.0, help="open-loop rate (default 10)")
    p.add_argument("--duration", type=seconds, default=20.0, metavar="S", help="default 20 s")
    p.add_argument("--scale-out-at", type=seconds, metavar="S",
                   help="start a second instance S seconds in (behind a front-end proxy)")  # fmt: skip
    p.add_argument("--payload", type=Path, metavar="FILE", help="request bodies, as for `load`")
    p.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                   help="service environment (repeatable), e.g. NUM_THREADS=1 CONCURRENCY=2")  # fmt: skip
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR", help=f"default {DEFAULT_OUT}")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=cmd_demo)


def ensure_model(preset: str, root: Path = MODELS) -> Path:
    """The generated checkpoint for `preset`, built once and reused."""
    path = root / preset
    if not (path / "config.json").is_file() or not any(path.glob("*.safetensors")):
        print(f"generating a random-weight {preset} checkpoint in {path} …", file=sys.stderr)
        from bench.fake_model import make_fake_qa_model  # noqa: PLC0415 — torch: only when needed

        make_fake_qa_model(path, preset=preset)
    return path


def _load(args: argparse.Namespace, url: str) -> int:
    config = LoadConfig(url=url, duration_s=args.duration, rps=args.rps,
                        payloads=load_payloads(args.payload))  # fmt: skip
    result = run_load(config, progress=not args.quiet)
    args.out.mkdir(parents=True, exist_ok=True)
    records.write_csv(args.out / "requests.csv", result.records)
    report = cli_load.analyse(result.records, cli_load.run_info(result), args.out, ColdStartRule())
    print(render_markdown(report))
    print(f"wrote {args.out}/requests.csv, report.json and plots", file=sys.stderr)
    return 0 if report["requests"]["ok"] else 1


def cmd_demo(args: argparse.Namespace) -> int:
    if args.url:
        return _load(args, args.url)
    if args.scale_out_at is not None and args.scale_out_at >= args.duration:
        raise CliError(f"--scale-out-at {args.scale_out_at:g} must be within --duration {args.duration:g}")
    model = args.model_dir or ensure_model(args.preset)
    if not (Path(model) / "config.json").is_file():
        raise CliError(f"{model} has no config.json: not a checkpoint directory")
    logs = args.out / "logs"
    env = parse_env(args.env)
    try:
        with LocalService(model, logs / "service-1.log", env) as first:
            print(f"service 1 ready in {first.wait_ready():.1f} s at {first.url}", file=sys.stderr)
            if args.scale_out_at is None:
                return _load(args, first.url)
            return _with_scale_out(args, model, first, logs, env)
    except ServiceStartError as exc:
        raise CliError(str(exc)) from None


def _with_scale_out(args: argparse.Namespace, model: Path, first: LocalService, logs: Path,
                    env: dict[str, str]) -> int:  # fmt: skip
    second = LocalService(model, logs / "service-2.log", env)

    def scale_out(proxy: FrontEndProxy) -> None:
        backend = proxy.add(second.start().url, ready=False)
        try:
            print(f"\nservice 2 ready in {second.wait_ready():.1f} s", file=sys.stderr)
            proxy.mark_ready(backend)
        except ServiceStartError as exc:
            print(f"\nservice 2 failed: {exc}", file=sys.stderr)

    # Like Cloud Run: an instance gets at most its concurrency; the rest wait for a free one.
    text = env.get("CONCURRENCY", "1")
    concurrency = max(1, int(text)) if text.isdigit() else 1
    with FrontEndProxy(backend_concurrency=concurrency) as proxy:
        proxy.add(first.url)
        timer = threading.Timer(args.scale_out_at, scale_out, args=(proxy,))
        timer.daemon = True
        timer.start()
        try:
            return _load(args, proxy.url)
        finally:
            timer.cancel()
            second.stop()
