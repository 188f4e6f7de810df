"""`python -m bench {load,report,coldstart,cost,demo,gpu}` — see bench/README.md."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bench import cli_coldstart, cli_cost, cli_load, demo, gpu
from bench.cli_common import CliError, Parser


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="python -m bench", description="Load, cold-start and cost harness for the QA service."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    cli_load.add_load(commands)
    cli_load.add_report(commands)
    cli_coldstart.add_coldstart(commands)
    demo.add_demo(commands)
    cli_cost.add_cost(commands)
    gpu.add_gpu(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except CliError as exc:
        print(f"python -m bench {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
