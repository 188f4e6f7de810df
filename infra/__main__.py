"""Offline tools for the Pulumi program.

python -m infra render STACK [--format json|yaml|markdown] [--set key=value ...] [--from-cli]
python -m infra diff BASE.json HEAD.json [--stack NAME]
python -m infra config-table [--write docs/configuration.md]
python -m infra rollout STACK [--steps 10,50] [--soak 5m]   (real Pulumi CLI: docs/rollout.md)
python -m infra rollback STACK
python -m infra monitoring-tables [--write docs/observability.md]
python -m infra runtime-table [--write service/README.md]
python -m infra image [--stack dev] [--runtime R] [--precision P] [--model-source S] ...
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from infra import local_image
from infra.command_line import parse_command_line
from infra.components.monitoring import reference
from infra.offline import diff as diffing
from infra.offline import docs, runtime_docs
from infra.offline import render as rendering
from infra.rollout import cli as rollouts
from infra.settings import SettingsError, StackConfigError, parse_overrides


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
    render.add_argument(
        "--from-cli",
        action="store_true",
        help="take the config from the Pulumi CLI (`pulumi config`) instead of reading the stack files, "
        "and list where the two differ (exit 1 when they do)",
    )
    diff = commands.add_parser("diff", help="markdown summary of what changed between two JSON renders")
    diff.add_argument("base", type=Path, help="render of the base commit (missing: a new stack)")
    diff.add_argument("head", type=Path, help="render of the head commit")
    diff.add_argument("--stack", default="", help="stack name for the heading")
    table = commands.add_parser("config-table", help="markdown table of every config key")
    table.add_argument(
        "--write", type=Path, metavar="FILE", help="replace the table in this file (docs/configuration.md)"
    )
    tables = commands.add_parser("monitoring-tables", help="dashboard layout and alert table (markdown)")
    tables.add_argument("--write", type=Path, metavar="DOC", help="replace the tables in this file")
    runtimes = commands.add_parser("runtime-table", help="markdown table of the runtimes the service serves")
    runtimes.add_argument("--write", type=Path, metavar="FILE", help="replace the table in this file")
    image = commands.add_parser("image", help="build the service image locally (make image)")
    image.add_argument("--stack", default="dev", help="stack whose build args to use (default dev)")
    image.add_argument("--runtime", default="", help="override the stack's runtime")
    image.add_argument("--precision", default="", help="override the stack's precision")
    image.add_argument("--model-source", default="", help="a Hub model id or a checkpoint directory")
    image.add_argument("--model-revision", default="", help="Hub revision, or a local checkpoint's label")
    image.add_argument("--image", default="", help="NAME:TAG (default qa-service:RUNTIME-PRECISION)")
    image.add_argument("--build-arg", dest="build_args", action="append", default=[], metavar="KEY=VALUE")
    image.add_argument("--engine", choices=local_image.ENGINES, default="auto")
    rollouts.add_commands(commands)
    args = parse_command_line(parser, argv)

    commands_run = {"image": _image, **dict.fromkeys(rollouts.COMMANDS, rollouts.run)}
    if args.command in commands_run:
        return commands_run[args.command](args)

    generated = {
        "monitoring-tables": (reference.update, reference.tables),
        "config-table": (docs.update_doc, docs.config_table),
        "runtime-table": (runtime_docs.update_doc, runtime_docs.runtime_table),
    }
    if args.command in generated:
        update, text = generated[args.command]
        if args.write:
            update(args.write)
        else:
            sys.stdout.write(text())
        return 0

    if args.command == "diff":
        try:
            sys.stdout.write(diffing.diff_files(args.stack or args.head.stem, args.base, args.head))
        except (OSError, ValueError, KeyError, TypeError) as error:
            print(f"error: cannot compare {args.base} and {args.head}: {error}", file=sys.stderr)
            return 2
        return 0
    return _render(args)


def _render(args: argparse.Namespace) -> int:
    try:
        overrides = parse_overrides(args.overrides)
        result = rendering.render(args.stack, overrides, from_cli=args.from_cli)
    except (SettingsError, StackConfigError) as error:
        for line in str(error).splitlines():
            print(f"error: {line}", file=sys.stderr)
        return 2
    sys.stdout.write(rendering.format_rendering(result, args.format))
    if args.from_cli:
        from infra.offline.from_cli import disagreements  # noqa: PLC0415 — the Automation API, only here

        differences = disagreements(result.source, overrides)
        for line in differences:
            print(f"differs: {line}", file=sys.stderr)
        return 1 if differences else 0
    return 0


def _image(args: argparse.Namespace) -> int:
    given = (("runtime", args.runtime), ("precision", args.precision))
    overrides = {key: value for key, value in given if value}
    try:
        built = local_image.build(
            stack=args.stack,
            overrides=overrides,
            model_source=args.model_source,
            model_revision=args.model_revision,
            image=args.image,
            extra_args=local_image.parse_build_args(args.build_args),
            engine=args.engine,
        )
    except (SettingsError, StackConfigError, local_image.ImageBuildError) as error:
        print(f"error: {' '.join(str(error).split())}", file=sys.stderr)
        return 2
    print(built)
    return 0


def run(argv: list[str] | None = None) -> int:
    """`main`, quiet when the reader stops early (`python -m infra render gke --format yaml | head`):
    no BrokenPipeError traceback, exit 0."""
    try:
        code = main(argv)
        sys.stdout.flush()
    except BrokenPipeError:
        # The interpreter flushes stdout again at exit; point it at /dev/null so that cannot fail.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return code


if __name__ == "__main__":
    sys.exit(run())
