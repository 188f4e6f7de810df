"""`python -m bench cost STACK --rps R`: a stack's monthly Cloud Run cost at a steady rate."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.cli_common import CliError, non_negative_float, positive_float
from infra import cost


def add_cost(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "cost",
        help="monthly Cloud Run cost of a stack's settings at a steady request rate",
        description="Estimate a stack's monthly Cloud Run bill (request- or instance-based "
        "billing, as the stack says) and compare it with always-on instances of the same size. "
        "Prices: infra/cost/prices.py.",
    )
    p.add_argument("stack", metavar="STACK", help="stack name: reads Pulumi.yaml + Pulumi.STACK.yaml")
    p.add_argument("--rps", type=non_negative_float, required=True, help="steady requests per second")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a stack setting, as `python -m infra render --set` (e.g. cpu=4)",
    )
    latency = p.add_mutually_exclusive_group()
    latency.add_argument(
        "--latency-ms",
        type=positive_float,
        help=f"time an instance spends per request (default {cost.DEFAULT_LATENCY_MS:g})",
    )
    latency.add_argument(
        "--from-report",
        type=Path,
        metavar="REPORT",
        help="take the latency from a load run's report.json (mean server time, else client)",
    )
    p.add_argument("--free-tier", action="store_true", help="subtract the monthly free tier")
    p.add_argument("--format", choices=("markdown", "json"), default="markdown")
    p.set_defaults(handler=cmd_cost)


def latency_from_report(path: Path) -> float:
    """Billed time per request ≈ time inside the app; the client latency adds network."""
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read {path}: {exc}") from None
    for key in ("server_total_ms", "latency_ms"):
        mean = (report.get(key) or {}).get("mean")
        if mean:
            return float(mean)
    raise CliError(f"{path}: no successful requests with a latency to take")


def load_inputs(stack: str, overrides: list[str]) -> cost.CostInputs:
    # Imported here: infra pulls in Pulumi, which `bench load` never needs.
    try:
        from infra.settings import (  # noqa: PLC0415
            SettingsError,
            StackConfigError,
            parse_overrides,
            settings_from_stack_files,
        )
    except ImportError as exc:
        raise CliError(f"cannot read stacks: {exc}") from None
    try:
        settings = settings_from_stack_files(stack, parse_overrides(overrides))
    except StackConfigError as exc:
        raise CliError(str(exc)) from None
    except SettingsError as exc:
        raise CliError(f"stack {stack!r} has invalid settings: " + "; ".join(exc.problems)) from None
    return cost.CostInputs.from_settings(settings)


def cmd_cost(args: argparse.Namespace) -> int:
    inputs = load_inputs(args.stack, args.overrides)
    latency_ms = args.latency_ms or (
        latency_from_report(args.from_report) if args.from_report else cost.DEFAULT_LATENCY_MS
    )
    report = cost.estimate(inputs, args.rps, latency_ms, free_tier=args.free_tier)
    if args.format == "json":
        print(json.dumps(cost.as_dict(report), indent=2))
    else:
        print(cost.render_markdown(report), end="")
    return 0
