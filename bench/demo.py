"""`python -m bench demo` (`make demo`, `make bench`): a short load test against a local service.

Without `--url` it generates a random-weight checkpoint (bench/fake_model.py), bakes it for
`--runtime`/`--precision` (default: what the dev stack's image bakes; cached under models/),
starts `python -m service` on it as the image does, asks it one question, runs the load,
prints the report, writes the plots, stops the service and says what it did.

`--from-zero` and `--scale-out-at S` imitate Cloud Run starting instances
under load: requests go through a front-end proxy that gives each instance at most its
concurrency (CONCURRENCY, default 1) and queues the rest; with `--from-zero` the service
starts only when the load does (the first requests wait for it), and `--scale-out-at S`
starts another service process S seconds in. Queued requests go to an instance as soon as
it is ready, so the plots show cold starts the way Cloud Run users meet them.
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

from bench import cli_load, records, target
from bench.cli_common import CliError, non_negative_float, parse_env, positive_float, seconds
from bench.demo_steps import Steps, ask
from bench.load import LoadConfig, run_load
from bench.local_service import LocalService, ServiceStartError
from bench.models import IMAGE_STACK, baked_path, ensure_baked, image_pair, is_baked
from bench.proxy import FrontEndProxy
from bench.report import ColdStartRule
from bench.report_markdown import render_markdown
from qaclient.payloads import load_payloads
from service.bake.manifest import AUTO_PRECISION, DEFAULT_PRECISION, PRECISIONS, RUNTIMES, pair_problem

DEFAULT_OUT = Path("bench/out/demo")
PRESETS = ("tiny", "distilbert-base")
# One local instance and no scale-out: the demo's rate stays well below what it serves, so the
# report shows latency, not the overload path (a 503 + Retry-After once MAX_QUEUE requests wait).
DEFAULT_RPS = 5.0


def add_demo(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "demo",
        help="short local load test (make bench): starts the service on a generated model",
        description=__doc__.split("\n\n")[1].replace("\n", " "),
    )
    p.add_argument("--url", help="load-test this running service instead of starting one")
    p.add_argument(
        "--preset",
        choices=PRESETS,
        default="tiny",
        help="model to generate (default tiny; distilbert-base: realistic timings)",
    )
    p.add_argument(
        "--runtime",
        choices=RUNTIMES,
        help=f"bake the generated model for this runtime (default: the {IMAGE_STACK} stack's image)",
    )
    p.add_argument("--precision", choices=PRECISIONS, help="default: the runtime's own, or the stack image's")
    p.add_argument("--model-dir", type=Path, help="serve this model directory instead of generating one")
    p.add_argument(
        "--rps",
        type=positive_float,
        default=DEFAULT_RPS,
        help=f"open-loop rate (default {DEFAULT_RPS:g}: within one local instance)",
    )
    p.add_argument("--duration", type=seconds, default=20.0, metavar="S", help="default 20 s")
    p.add_argument(
        "--from-zero",
        action="store_true",
        help="start the service with the load (scale from zero): first requests wait",
    )
    p.add_argument(
        "--scale-out-at",
        type=seconds,
        metavar="S",
        help="start a second instance S seconds in (behind a front-end proxy)",
    )
    p.add_argument(
        "--grace",
        type=non_negative_float,
        default=10.0,
        metavar="S",
        help="wait this long after the run for answers still due (default 10)",
    )
    p.add_argument("--payload", type=Path, metavar="FILE", help="request bodies, as for `load`")
    p.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="service environment (repeatable), e.g. NUM_THREADS=1 CONCURRENCY=2",
    )
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR", help=f"default {DEFAULT_OUT}")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=cmd_demo)


def _load(args: argparse.Namespace, url: str, measured: dict | None = None) -> int:
    try:
        config = LoadConfig(
            url=url,
            duration_s=args.duration,
            rps=args.rps,
            grace_s=args.grace,
            payloads=load_payloads(args.payload),
        )
    except ValueError as exc:  # PayloadError included
        raise CliError(str(exc)) from None
    measured = measured or target.describe(url)
    result = run_load(config, progress=not args.quiet)
    args.out.mkdir(parents=True, exist_ok=True)
    records.write_csv(args.out / "requests.csv", result.records)
    report = cli_load.analyse(result.records, cli_load.run_info(result, measured), args.out, ColdStartRule())
    print(render_markdown(report))
    print(f"wrote {args.out}/requests.csv, report.json and plots", file=sys.stderr)
    return 0 if report["requests"]["ok"] else 1


def shown_path(path: Path) -> str:
    """`path` relative to the working directory where it lies below it (models/…), else as is."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def baked_pair(runtime: str | None, precision: str | None) -> tuple[str, str]:
    """The options, else what the image stack bakes (a runtime alone: its own default precision)."""
    if runtime is None:
        stack_runtime, stack_precision = image_pair()
        runtime, precision = stack_runtime, precision or stack_precision
    precision = precision or DEFAULT_PRECISION[runtime]
    # `auto` is the bake's and the service's to resolve; any other pair is checked here, in one line.
    if precision != AUTO_PRECISION and (problem := pair_problem(runtime, precision)):
        raise CliError(problem)
    return runtime, precision


def cmd_demo(args: argparse.Namespace) -> int:
    if args.url:
        return _load(args, args.url)
    if args.scale_out_at is not None and args.scale_out_at >= args.duration:
        raise CliError(f"--scale-out-at {args.scale_out_at:g} must be within --duration {args.duration:g}")
    steps = Steps()
    if args.model_dir:
        model = args.model_dir
        steps.add(f"served your model directory {model}")
    else:
        runtime, precision = baked_pair(args.runtime, args.precision)
        cached = is_baked(baked_path(args.preset, runtime, precision))
        model = ensure_baked(args.preset, runtime, precision)
        steps.add(
            f"{'reused' if cached else 'generated'} a random-weight {args.preset} checkpoint "
            f"(bench/fake_model.py) baked for {runtime} {precision} by python -m service.bake, as the "
            f"image build bakes: {shown_path(model)}"
        )
    if not (Path(model) / "config.json").is_file():
        raise CliError(f"{model} has no config.json: not a checkpoint directory")
    env = parse_env(args.env)
    if args.from_zero or args.scale_out_at is not None:
        return _through_front_end(args, model, env)
    try:
        with LocalService(model, args.out / "logs" / "service-1.log", env) as service:
            ready_s = service.wait_ready()
            print(f"service ready in {ready_s:.1f} s at {service.url}", file=sys.stderr)
            steps.add(
                f"started python -m service (gunicorn, as the image runs it) at {service.url}: "
                f"ready in {ready_s:.1f} s"
            )
            steps.add(ask(service.url))
            code = _load(args, service.url, target.from_model_dir(model))
            steps.add(
                f"loaded it at {args.rps:g} requests/s for {args.duration:g} s: the report above, "
                f"plots in {args.out}/"
            )
    except ServiceStartError as exc:
        raise CliError(str(exc)) from None
    steps.add(f"stopped the service (its log: {args.out}/logs/service-1.log)")
    print(steps.markdown())
    return code


def _through_front_end(args: argparse.Namespace, model: Path, env: dict[str, str]) -> int:
    """Instances that join while the load runs, behind the Cloud Run-like proxy."""
    services: list[LocalService] = []

    def launch(number: int, proxy: FrontEndProxy) -> bool:
        service = LocalService(model, args.out / "logs" / f"service-{number}.log", env)
        services.append(service)
        backend = proxy.add(service.start().url, ready=False)  # requests may queue for it
        try:
            print(f"\nservice {number} ready in {service.wait_ready():.1f} s", file=sys.stderr)
        except ServiceStartError as exc:
            print(f"\nservice {number} failed: {exc}", file=sys.stderr)
            return False
        proxy.mark_ready(backend)
        return True

    # Like Cloud Run: an instance gets at most its concurrency; the rest wait for a free one.
    text = env.get("CONCURRENCY", "1")
    concurrency = max(1, int(text)) if text.isdigit() else 1
    with FrontEndProxy(backend_concurrency=concurrency) as proxy:
        starters = []
        if args.from_zero:  # the first instance starts with the load: scale from zero
            starters.append(threading.Timer(0, launch, args=(1, proxy)))
        elif not launch(1, proxy):
            services[0].stop()
            raise CliError("service 1 did not start (see the line above)")
        if args.scale_out_at is not None:
            starters.append(threading.Timer(args.scale_out_at, launch, args=(2, proxy)))
        try:
            for timer in starters:
                timer.daemon = True
                timer.start()
            return _load(args, proxy.url, target.from_model_dir(model))
        finally:
            for timer in starters:
                timer.cancel()
            for service in services:
                service.stop()
