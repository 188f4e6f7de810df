"""`python -m infra render STACK [--format json|yaml|markdown] [--set key=value ...]`."""

from __future__ import annotations

import argparse
import sys

from infra import render as rendering
from infra.settings import SettingsError
from infra.stack_config import StackConfigError, parse_overrides


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    render = commands.add_parser("render", help="print what a stack declares, offline")
    render.add_argument("stack", help="stack name (Pulumi.<stack>.yaml)")
    render.add_argument("--format", choices=rendering.FORMATS, default="json")
    render.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key for this render (repeatable)",
    )
    args = parser.parse_args(argv)

    try:
        result = rendering.render(args.stack, parse_overrides(args.overrides))
    except (SettingsError, StackConfigError) as error:
        for line in str(error).splitlines():
            print(f"error: {line}", file=sys.stderr)
        return 2
    sys.stdout.write(rendering.format_rendering(result, args.format))
    return 0


if __name__ == "__main__":
    sys.exit(main())
