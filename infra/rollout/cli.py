"""`python -m infra rollout STACK` and `python -m infra rollback STACK` (also `make rollout|rollback`)."""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from infra.rollout import keys
from infra.rollout.canary import canary_step
from infra.rollout.driver import PulumiDriver
from infra.rollout.gate import LATENCY_BUDGET, GateConfig, Verdict, run_gate
from infra.rollout.metrics import CloudMonitoringSource, MetricsSource, ProbeSource, access_token
from infra.rollout.orchestrate import Outcome, StackError, rollback, rollout
from infra.rollout.traffic import MAX_CANDIDATE_PERCENT
from qaclient.auth import TOKEN_ENV, resolve_token
from qaclient.payloads import PayloadError, load_payloads

COMMANDS = ("rollout", "rollback")
METRICS = ("auto", "monitoring", "probes")
ROOT = Path(__file__).resolve().parents[2]
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(s|m|h)?$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}


def parse_duration(text: str) -> float:
    """`90`, `90s`, `5m`, `1h` → seconds."""
    match = _DURATION.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration: use e.g. 90s, 5m or 1h")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2) or "s"]


def parse_steps(text: str) -> tuple[int, ...]:
    """`10,50` → (10, 50): ascending candidate shares, each 1…MAX_CANDIDATE_PERCENT."""
    try:
        steps = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        steps = ()
    if (
        not steps
        or list(steps) != sorted(set(steps))
        or not all(0 < s <= MAX_CANDIDATE_PERCENT for s in steps)
    ):
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected ascending percentages 1…{MAX_CANDIDATE_PERCENT}, e.g. 10,50"
        )
    return steps


def parse_budget(text: str) -> float:
    """`1.5` → 1.5: a factor over the serving revision's p50, above 0 (`inf` never holds on latency)."""
    try:
        budget = float(text)
    except ValueError:
        budget = math.nan
    if not budget > 0:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a factor above 0, e.g. {LATENCY_BUDGET:g}")
    return budget


def add_commands(commands: argparse._SubParsersAction) -> None:
    out = commands.add_parser("rollout", help="deploy a candidate revision, gate it, promote or hold it")
    out.add_argument("stack")
    out.add_argument("--steps", type=parse_steps, default=(), help="canary shares after the gate, e.g. 10,50")
    out.add_argument("--soak", type=parse_duration, default=300.0, help="time at each step (default 5m)")
    out.add_argument("--golden", type=Path, help="JSON/JSON Lines of {context, question, start, end}")
    out.add_argument(
        "--latency-budget",
        type=parse_budget,
        default=LATENCY_BUDGET,
        help=f"candidate p50 ≤ this × serving p50 (default {LATENCY_BUDGET:g}; inf: latency does not decide)",
    )
    out.add_argument("--max-error-ratio", type=float, default=0.01, help="5xx share allowed at each step")
    out.add_argument("--metrics", choices=METRICS, default="auto", help="where canary error counts come from")
    out.add_argument("--token", help=f"identity token for a private service (else ${TOKEN_ENV}, else gcloud)")
    back = commands.add_parser("rollback", help="put traffic back on the previous (or serving) revision")
    back.add_argument("stack")
    for parser in (out, back):
        parser.add_argument("--work-dir", type=Path, default=ROOT, help=argparse.SUPPRESS)


def metrics_source(choice: str, config: Mapping[str, str], probes: ProbeSource) -> MetricsSource:
    """Cloud Monitoring where the platform is Cloud Run and a token is at hand; else the probes."""
    if choice == "probes" or (choice == "auto" and config.get("platform") == "knative"):
        return probes
    token = access_token()
    if token:
        return CloudMonitoringSource(config.get("gcp:project", ""), config.get("serviceName", ""), token)
    if choice == "monitoring":
        raise StackError(
            "--metrics monitoring: no access token (gcloud auth login, or GOOGLE_OAUTH_ACCESS_TOKEN)"
        )
    return probes


def _gate_config(args: argparse.Namespace, outputs: Mapping[str, Any]) -> GateConfig:
    golden = load_payloads(args.golden) if args.golden else None
    token, _ = resolve_token(outputs[keys.URL], args.token)
    return GateConfig(
        expected_model_revision=outputs.get(keys.MODEL_REVISION, ""),
        golden=golden,
        latency_budget=args.latency_budget,
        max_error_ratio=args.max_error_ratio,
        token=token,
    )


def run(args: argparse.Namespace) -> int:
    try:
        driver = PulumiDriver(args.stack, args.work_dir)
        if args.command == "rollback":
            outcome = rollback(driver)
        else:
            probes = ProbeSource()
            source = metrics_source(args.metrics, driver.config(), probes) if args.steps else probes

            def gate(outputs: Mapping[str, Any]) -> Verdict:
                serving = outputs.get(keys.SERVING_URL) or outputs[keys.URL]
                return run_gate(outputs[keys.CANDIDATE_URL], serving, _gate_config(args, outputs))

            def canary(outputs: Mapping[str, Any], percent: int) -> Verdict:
                return canary_step(
                    outputs[keys.CANDIDATE_URL],
                    outputs[keys.CANDIDATE_REVISION],
                    _gate_config(args, outputs),
                    source=source,
                    soak_s=args.soak,
                    probes=probes,
                )

            outcome = rollout(driver, gate, canary, args.steps)
    except (StackError, PayloadError) as error:
        outcome = Outcome(1, str(error))
    print(outcome.line, file=sys.stdout if outcome.code == 0 else sys.stderr)
    return outcome.code
