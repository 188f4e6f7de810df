"""Where a stack's settings come from: the Pulumi engine, or the stack files read offline.

`settings_from_pulumi` is the only reader of `pulumi.Config` (the program under `pulumi up` or
the offline render's mocks); `settings_from_stack_files` reads Pulumi.yaml and
Pulumi.STACK.yaml directly (`stack_files`), for tools that need settings without running Pulumi.
Both end in the same `build_settings`, so both see the same checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pulumi

from infra.pulumi_internals import configured_keys
from infra.settings import stack_files
from infra.settings.build import build_settings
from infra.settings.config_keys import key_problem, parse_key
from infra.settings.schema import CONFIG_KEYS, Settings, SettingsError
from infra.settings.stack_files import StackConfigError


def settings_from_pulumi() -> Settings:
    """This stack's settings from `pulumi.Config` (a CLI run, or the offline render)."""
    config = pulumi.Config()
    gcp = pulumi.Config("gcp")
    raw = {key: value for key in CONFIG_KEYS if (value := config.get(key)) is not None}
    # The stack file's own problems (a value the CLI reads two ways, a typo) with file and line;
    # else any key the engine handed over that nothing reads.
    unread = stack_file_problems(pulumi.get_stack()) or unread_keys()
    try:
        settings = build_settings(
            raw,
            project=gcp.get("project") or "",
            region=gcp.get("region") or "",
            stack=pulumi.get_stack(),
        )
    except SettingsError as error:
        raise SettingsError(unread + error.problems) from None
    if unread:
        raise SettingsError(unread)
    return settings


def stack_file_problems(stack: str) -> list[str]:
    """What the offline reader refuses in Pulumi.STACK.yaml, so that `pulumi up` refuses it too:
    under a CLI since v3.88 the program would otherwise get `maxInstances: 010` as "8"."""
    root = stack_files.ROOT
    if not (root / f"Pulumi.{stack}.yaml").exists():
        return []  # config kept elsewhere (another stackConfigDir, the offline tests' stacks)
    try:
        stack_files.read_stack(stack_files.read_project(root), stack, root)
    except StackConfigError as error:
        return error.problems
    return []


def unread_keys() -> list[str]:
    """Config the engine handed over that nothing reads (`serverless-qa:concurrancy`, `gcp:regoin`).
    The CLI passes every key of the stack, so `pulumi up` refuses a typo as the offline reader does
    (which also names the file and line)."""
    project = stack_files.read_project()
    problems = []
    for key in sorted(configured_keys()):
        parsed = parse_key(key)
        if parsed and (problem := key_problem(*parsed, project.name, project.schema)):
            problems.append(f"{key}: {problem}")
    return problems


def settings_from_stack_files(
    stack: str, overrides: Mapping[str, str] | None = None, *, root: Path = stack_files.ROOT
) -> Settings:
    """A stack's validated settings straight from its files (no Pulumi engine involved)."""
    return settings_from_config(stack_files.resolve(stack, overrides, root=root))


def settings_from_config(config: stack_files.StackConfig) -> Settings:
    """Validated settings from resolved config (the stack files' or the Pulumi CLI's)."""
    return build_settings(
        {k: v for k, v in config.project_values().items() if k in CONFIG_KEYS},
        project=config.values.get("gcp:project", ""),
        region=config.values.get("gcp:region", ""),
        stack=config.stack,
    )
