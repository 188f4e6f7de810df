"""The stack, driven through the real Pulumi CLI with the Automation API (`pulumi.automation`).

`select` works on the project directory itself, so config the rollout writes lands in
`Pulumi.STACK.yaml` as `pulumi config set` would put it: each phase is in the stack file, for review
and for `python -m infra render`. Pulumi's stack lock makes a concurrent `up` fail; that failure,
like any other, becomes one line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from infra.rollout.orchestrate import StackError
from infra.settings.project_file import read_project, to_config_string

INSTALL_URL = "https://www.pulumi.com/docs/iac/download-install/"


def project_defaults(work_dir: Path) -> tuple[str, dict[str, str]]:
    """The project name and its `config:` defaults (keys without prefix), as the CLI reads them."""
    project = read_project(work_dir)
    defaults = {
        key: to_config_string(declaration["default"])
        for key, declaration in project.schema.items()
        if "default" in declaration
    }
    return project.name, defaults


def error_line(error: Exception) -> str:
    """The CLI's own `error:` line, or the last thing it said."""
    if isinstance(error, auto.ConcurrentUpdateError):
        return "another update holds the stack lock (`pulumi cancel` if it is stale): traffic unchanged"
    # CommandError's text: " code: N", " stdout: …", " stderr: …" (each stream's first line prefixed).
    lines = [re.sub(r"^(?:stdout|stderr):\s*", "", line.strip()) for line in str(error).splitlines()]
    lines = [line for line in lines if line and not line.startswith("code:")]
    errors = [line for line in lines if line.lower().startswith("error:")]
    if errors:
        return errors[-1].removeprefix("error:").strip()
    return lines[-1] if lines else type(error).__name__


class PulumiDriver:
    def __init__(
        self,
        stack: str,
        work_dir: Path,
        say: Callable[[str], None] = print,
        # The CLI's own output goes to stdout: stderr stays the one line that says why, on failure.
        progress: Callable[[str], None] = print,
    ):
        self.work_dir = work_dir
        self.say, self.progress = say, progress
        self.project, self.defaults = project_defaults(work_dir)
        try:
            self.stack = auto.select_stack(stack_name=stack, work_dir=str(work_dir))
        except FileNotFoundError as error:
            raise StackError(f"the Pulumi CLI is not installed: {INSTALL_URL}") from error
        except auto.CommandError as error:
            raise StackError(f"cannot select stack {stack}: {error_line(error)}") from error

    def config(self) -> Mapping[str, str]:
        """Project keys without their prefix (defaults applied); others (gcp:project) as they are."""
        prefix = f"{self.project}:"
        values = dict(self.defaults)
        for key, value in self.stack.get_all_config().items():
            values[key.removeprefix(prefix)] = value.value
        return values

    def outputs(self) -> Mapping[str, Any]:
        return {key: output.value for key, output in self.stack.outputs().items()}

    def set_config(self, values: Mapping[str, str]) -> None:
        for key, value in values.items():
            self.stack.set_config(f"{self.project}:{key}", auto.ConfigValue(value=value))

    def up(self, message: str) -> Mapping[str, Any]:
        self.say(f"pulumi up: {message}")
        try:
            result = self.stack.up(message=message, on_output=self.progress)
        except auto.CommandError as error:
            raise StackError(error_line(error)) from error
        return {key: output.value for key, output in result.outputs.items()}
