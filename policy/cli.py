"""`python -m policy check STACK [--set key=value ...]` or `python -m policy check --render FILE.json`
(and `python -m policy rules`: the rule table).

Runs every rule on the offline render of a stack (the same rules the CrossGuard pack runs in
`pulumi preview`) and prints one line per violation: level, rule, resource, problem and fix.
Exit 0: no mandatory violation (advisories are printed but pass). Exit 1: at least one
mandatory violation. Exit 2: bad arguments, an unreadable render file or invalid stack settings
(one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from infra.command_line import parse_command_line
from policy.catalog import RULES
from policy.docs import rule_table
from policy.rule import Level, Resource, evaluate

EXIT_OK, EXIT_VIOLATIONS, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad input; each argument is one line the user sees (invalid settings: one per problem)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse prints usage + message; we want one line
        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m policy", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    check = commands.add_parser("check", help="run the rules on a stack's offline render")
    check.add_argument("stack", nargs="?", help="stack name (Pulumi.<stack>.yaml)")
    check.add_argument("--render", metavar="FILE.json", help="check a saved `python -m infra render` JSON")
    check.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key for the render (repeatable)",
    )
    commands.add_parser("rules", help="print the rule table (markdown, as in policy/README.md)")
    return parser


def load_render(path: str) -> list[Resource]:
    """Resources from a `python -m infra render STACK --format json` file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror or error}") from error
    except ValueError as error:
        raise UsageError(f"{path} is not JSON: {error}") from error
    if not isinstance(data, list) or not all(
        isinstance(r, dict) and isinstance(r.get("type"), str) and isinstance(r.get("name"), str)
        for r in data
    ):
        raise UsageError(
            f"{path} is not a render: expected a JSON list of {{type, name, parent, inputs}} objects"
        )
    return [Resource.of(r) for r in data]


def render_stack(stack: str, pairs: Sequence[str]) -> list[Resource]:
    # Imported here: `--render` needs neither Pulumi nor the program (fast, and usable where
    # only the render JSON is at hand).
    from infra.offline.render import render  # noqa: PLC0415
    from infra.settings import SettingsError, StackConfigError, parse_overrides  # noqa: PLC0415

    try:
        rendering = render(stack, parse_overrides(pairs))
    except (SettingsError, StackConfigError) as error:
        raise UsageError(*error.problems) from error
    return [Resource.of(r) for r in rendering.resources]


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = parse_command_line(_parser(), argv)
        if args.command == "rules":
            print(rule_table())
            return EXIT_OK
        if (args.stack is None) == (args.render is None):
            raise UsageError("check takes a STACK or --render FILE.json (one of them)")
        if args.render is not None and args.overrides:
            raise UsageError("--set applies to a STACK render, not to --render")
        if args.render is not None:
            resources, subject = load_render(args.render), args.render
        else:
            resources, subject = render_stack(args.stack, args.overrides), args.stack
    except UsageError as error:
        for line in error.args:
            print(f"error: {line}", file=sys.stderr)
        return EXIT_USAGE

    violations = evaluate(RULES, resources)
    for violation in violations:
        print(violation.line())
    mandatory = sum(v.level is Level.MANDATORY for v in violations)
    print(
        f"policy: {subject}: {mandatory} mandatory, {len(violations) - mandatory} advisory "
        f"violation(s) in {len(resources)} resources, {len(RULES)} rules",
        file=sys.stderr,
    )
    return EXIT_VIOLATIONS if mandatory else EXIT_OK


def run(argv: Sequence[str] | None = None) -> int:
    """`main`, quiet when the reader stops early (`python -m policy rules | head`): what it read
    is what it wanted, so no BrokenPipeError traceback and exit 0."""
    try:
        code = main(argv)
        sys.stdout.flush()
    except BrokenPipeError:
        # The interpreter flushes stdout again at exit; point it at /dev/null so that cannot fail.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    return code
