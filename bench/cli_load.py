"""`python -m bench load` and `python -m bench report`."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

from bench import plots, records, target
from bench.cli_common import CliError, non_negative_float, positive_float, positive_int, seconds
from bench.load import ARRIVALS, LoadConfig, LoadResult, run_load
from bench.report import (
    DEFAULT_COLD_THRESHOLD_MS,
    DEFAULT_COLD_WINDOW,
    ColdStartRule,
    build_report,
    write_report,
)
from bench.report_markdown import render_markdown
from qaclient import auth
from qaclient.payloads import PayloadError, load_payloads
from qaclient.urls import predict_url
from service import routes

DEFAULT_OUT = Path("bench/out/load")
MAX_CONCURRENCY = 1000  # threads: one per simulated user


def add_load(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "load",
        help="load-test an endpoint and write requests.csv, report.json and plots",
        description="Open-loop (--rps) or closed-loop (--concurrency) load against URL "
        f"(a bare service URL means its {routes.PREDICT}).",
    )
    p.add_argument("url", metavar="URL")
    shape = p.add_mutually_exclusive_group(required=True)
    shape.add_argument("--rps", type=positive_float, help="open loop: requests per second, sent on schedule")
    shape.add_argument(
        "--concurrency",
        type=positive_int,
        help=f"closed loop: N users, each sending again once answered (max {MAX_CONCURRENCY})",
    )
    p.add_argument(
        "--duration",
        type=seconds,
        required=True,
        metavar="S",
        help="stop sending after S seconds (20, 20s, 2m)",
    )
    p.add_argument("--max-requests", type=positive_int, metavar="N", help="stop sending after N requests")
    p.add_argument(
        "--payload",
        type=Path,
        metavar="FILE",
        help="JSON object, array of objects or JSON Lines; sent in turn (default: a short example)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        metavar="DIR",
        help=f"output folder (default {DEFAULT_OUT})",
    )
    p.add_argument(
        "--timeout",
        type=positive_float,
        default=30.0,
        metavar="S",
        help="per-request timeout (default 30)",
    )
    p.add_argument(
        "--grace",
        type=non_negative_float,
        default=10.0,
        metavar="S",
        help="after the deadline, wait this long for requests in flight, then cancel (default 10)",
    )
    p.add_argument(
        "--max-outstanding",
        type=positive_int,
        default=128,
        metavar="N",
        help="open loop: at most N requests in flight; more are recorded as overflow (default 128)",
    )
    p.add_argument(
        "--arrivals",
        choices=ARRIVALS,
        default="constant",
        help="open loop: evenly spaced or Poisson arrivals (default constant)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed for Poisson arrivals")
    p.add_argument("--token", help=f"identity token for Cloud Run (else ${auth.TOKEN_ENV}, else gcloud)")
    p.add_argument("--no-gcloud", action="store_true", help="never ask gcloud for a token")
    p.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="extra request header (repeatable), e.g. 'Host: qa.default.example.com' "
        "for a Knative service behind its ingress IP",
    )
    _add_analysis_args(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=cmd_load)


def _add_analysis_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--cold-window",
        type=positive_int,
        default=DEFAULT_COLD_WINDOW,
        metavar="N",
        help=f"look for start-up delay in an instance's first N requests ({DEFAULT_COLD_WINDOW})",
    )
    p.add_argument(
        "--cold-threshold-ms",
        type=non_negative_float,
        default=DEFAULT_COLD_THRESHOLD_MS,
        metavar="MS",
        help=f"excess over warm requests that means start-up delay ({DEFAULT_COLD_THRESHOLD_MS:g})",
    )
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")


def add_report(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "report",
        help="re-analyse a finished run from DIR/requests.csv",
        description="Rebuild report.json, the markdown summary and the plots "
        "from DIR/requests.csv (e.g. with another cold-start rule).",
    )
    p.add_argument("dir", type=Path, metavar="DIR")
    _add_analysis_args(p)
    p.set_defaults(handler=cmd_report)


def run_info(result: LoadResult, measured: dict | None = None) -> dict:
    """The run's settings, and what it measured (bench.target) for the report's heading."""
    cfg = result.config
    return {
        "url": predict_url(cfg.url),
        "target": measured or {},
        "mode": cfg.mode,
        "rps": cfg.rps,
        "concurrency": cfg.concurrency,
        "duration_s": cfg.duration_s,
        "max_requests": cfg.max_requests,
        "arrivals": cfg.arrivals if cfg.mode == "open" else None,
        "max_outstanding": cfg.max_outstanding if cfg.mode == "open" else None,
        "timeout_s": cfg.timeout_s,
        "grace_s": cfg.grace_s,
        "payloads": len(cfg.payloads),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(result.started_epoch)),
        "wall_s": round(result.wall_s, 3),
    }


def analyse(
    recs: list[records.RequestRecord],
    run: dict,
    out_dir: Path,
    rule: ColdStartRule,
    make_plots: bool = True,
) -> dict:
    """Write report.json (and plots); return the report."""
    out_dir.mkdir(parents=True, exist_ok=True)
    report = build_report(recs, run, rule)
    write_report(out_dir, report)
    if make_plots:
        report_paths = plots.write_plots(recs, report, out_dir)
        print("plots: " + ", ".join(str(p) for p in report_paths), file=sys.stderr)
    return report


def config_from_args(args: argparse.Namespace, headers: dict[str, str]) -> LoadConfig:
    if args.concurrency and args.concurrency > MAX_CONCURRENCY:
        raise CliError(f"--concurrency {args.concurrency} is above {MAX_CONCURRENCY} (one thread per user)")
    try:
        payloads = load_payloads(args.payload)
        predict_url(args.url)
        return LoadConfig(
            url=args.url,
            duration_s=args.duration,
            rps=args.rps,
            concurrency=args.concurrency,
            max_requests=args.max_requests,
            payloads=payloads,
            timeout_s=args.timeout,
            grace_s=args.grace,
            max_outstanding=args.max_outstanding,
            arrivals=args.arrivals,
            seed=args.seed,
            headers=headers,
        )
    except (PayloadError, ValueError) as exc:
        raise CliError(str(exc)) from None


def parse_headers(pairs: list[str]) -> dict[str, str]:
    headers = {}
    for pair in pairs:
        name, sep, value = pair.partition(":")
        if not sep or not name.strip() or name != name.strip():
            raise CliError(f"--header {pair!r}: expected 'Name: value'")
        headers[name] = value.strip()
    return headers


def cmd_load(args: argparse.Namespace) -> int:
    headers = parse_headers(args.header)
    config = config_from_args(args, headers)  # bad arguments fail before gcloud is asked for a token
    token, source = auth.resolve_token(args.url, args.token, use_gcloud=not args.no_gcloud)
    config = dataclasses.replace(config, headers={**headers, **auth.auth_headers(token)})
    if token:
        print(f"auth: identity token from {source}", file=sys.stderr)
    measured = target.describe(args.url, config.headers)  # before the load: /ready is cheap
    result = run_load(config, progress=not args.quiet)
    args.out.mkdir(parents=True, exist_ok=True)
    records.write_csv(args.out / "requests.csv", result.records)
    rule = ColdStartRule(args.cold_window, args.cold_threshold_ms)
    report = analyse(result.records, run_info(result, measured), args.out, rule, not args.no_plots)
    print(render_markdown(report))
    print(f"wrote {args.out / 'requests.csv'} and {args.out / 'report.json'}", file=sys.stderr)
    return _verdict(report)


def _verdict(report: dict) -> int:
    """Exit 1 (with a hint) when nothing answered — the run measured nothing."""
    counts = report["status_counts"]
    if report["requests"]["answered"] == 0:
        print(
            f"no request got an HTTP answer: is the URL right and the service up? (outcomes: {counts})",
            file=sys.stderr,
        )
        return 1
    refused = sum(counts.get(status, 0) for status in ("429", "503"))
    if refused:
        print(
            f"{refused} request(s) got 429/503: the service was at capacity (an instance runs "
            "CONCURRENCY requests and lets MAX_QUEUE more wait). Lower --rps or --concurrency, "
            "or let the platform add instances (maxInstances)",
            file=sys.stderr,
        )
    if report["requests"]["ok"] == 0 and set(counts) & {"401", "403"}:
        print(
            "every request was refused (401/403): pass --token or set "
            f"{auth.TOKEN_ENV}, or run `gcloud auth login` (the caller needs roles/run.invoker)",
            file=sys.stderr,
        )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    csv_path = args.dir / "requests.csv"
    if not csv_path.is_file():
        raise CliError(
            f"{csv_path} not found (run `.venv/bin/python -m bench load ... --out {args.dir}` first)"
        )
    recs = records.read_csv(csv_path)
    run: dict = {}
    report_path = args.dir / "report.json"
    if report_path.is_file():
        run = json.loads(report_path.read_text(encoding="utf-8")).get("run", {})
    rule = ColdStartRule(args.cold_window, args.cold_threshold_ms)
    report = analyse(recs, run, args.dir, rule, not args.no_plots)
    print(render_markdown(report))
    return 0
