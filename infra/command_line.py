"""Command-line parsing shared by `python -m infra` and `python -m policy` (no Pulumi imports, so
`python -m policy rules` stays fast)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence


def parse_command_line(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """`parser.parse_args`, except that `--set cpu 4` (as `pulumi config set cpu 4` is written) gets
    the line of infra.settings.parse_overrides naming --set and KEY=VALUE, not argparse's
    "unrecognized arguments: 4"."""
    args, extra = parser.parse_known_args(argv)
    if extra and any("=" not in pair for pair in getattr(args, "overrides", ())):
        args.overrides += extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return args
