"""A stack's config as the Pulumi CLI itself passes it to the program: `render STACK --from-cli`.

The offline reader (infra/settings/stack_files.py) reads the stack files as the CLI does; this
asks the CLI (the Automation API's `get_all_config`, which runs `pulumi config --show-secrets
--json`), so a user checks one against the other in one command: the render runs on the CLI's
values, and every key where the offline reader reads something else, or refuses the file, is a
line on stderr.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pulumi import automation as auto

from infra.rollout.driver import INSTALL_URL, error_line
from infra.settings import StackConfig, StackConfigError, stack_files
from infra.settings.stack_files import ConfigValue


def resolve(
    stack: str, overrides: Mapping[str, str] | None = None, *, root: Path = stack_files.ROOT
) -> StackConfig:
    """Pulumi.yaml's defaults beneath what `pulumi config` says for the stack, then `--set`."""
    project = stack_files.read_project(root)
    try:
        values = auto.select_stack(stack_name=stack, work_dir=str(root)).get_all_config()
    except FileNotFoundError:
        raise StackConfigError([f"--from-cli: the Pulumi CLI is not installed: {INSTALL_URL}"]) from None
    except auto.CommandError as error:
        raise StackConfigError([f"--from-cli: pulumi config: {error_line(error)}"]) from None
    merged = dict(project.values)
    for key, value in values.items():
        merged[key] = ConfigValue(value.value, secret=value.secret, where="pulumi config")
    merged |= stack_files.override_values(overrides or {}, project)
    return stack_files.stack_config(project.name, stack, merged)


def disagreements(
    cli: StackConfig, overrides: Mapping[str, str] | None = None, *, root: Path = stack_files.ROOT
) -> list[str]:
    """Where the offline reader reads the stack otherwise than the CLI did (secrets aside)."""
    try:
        offline = stack_files.resolve(cli.stack, overrides, root=root)
    except StackConfigError as error:
        return [f"the offline reader refuses the stack: {problem}" for problem in error.problems]
    lines = []
    for key in sorted(set(cli.values) | set(offline.values)):
        if key in cli.secret_keys or key in offline.secret_keys:
            continue
        ours, theirs = offline.values.get(key), cli.values.get(key)
        if ours != theirs:
            lines.append(f"{key}: the Pulumi CLI passes {_shown(theirs)}, the offline reader {_shown(ours)}")
    return lines


def _shown(value: str | None) -> str:
    return "nothing" if value is None else repr(value)
