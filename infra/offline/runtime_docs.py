"""The runtime table in service/README.md, generated so that no prose lists runtimes or defaults.

The runtimes, the precisions each serves and its weights file come from service/bake/manifest.py
(the one declaration the bake, the backends and the stack settings share); which runtime a stack
gets when it leaves `runtime` unset comes from the settings themselves (the dev stack, with and
without a GPU). `python -m infra runtime-table --write service/README.md` refreshes it; a test
fails when it is stale.
"""

from __future__ import annotations

from pathlib import Path

from infra.settings import settings_from_stack_files, stack_files
from service.bake.manifest import DEFAULT_MODEL_FILE, RUNTIMES, SUPPORTED

START, END = "<!-- runtime-table:start -->", "<!-- runtime-table:end -->"
RUNTIME_DOC = stack_files.ROOT / "service" / "README.md"
# The stack whose unset `runtime` shows the defaults, and the GPU that switches it.
DEFAULTS_STACK = "dev"
GPU = {"gpu": "nvidia-l4"}


def default_runtimes() -> dict[str, str]:
    """runtime -> where a stack that leaves `runtime` unset gets it ("CPU stacks", "GPU stacks")."""
    cpu = settings_from_stack_files(DEFAULTS_STACK).model.runtime
    gpu = settings_from_stack_files(DEFAULTS_STACK, GPU).model.runtime
    found: dict[str, list[str]] = {}
    found.setdefault(cpu, []).append("CPU stacks")
    found.setdefault(gpu, []).append("GPU stacks")
    return {runtime: " and ".join(where) for runtime, where in found.items()}


def runtime_table() -> str:
    defaults = default_runtimes()
    lines = [
        "| runtime | precisions it serves | weights file | a stack's default for |",
        "|---|---|---|---|",
    ]
    for runtime in RUNTIMES:
        precisions = ", ".join(f"`{p}`" for p in SUPPORTED[runtime])
        lines.append(
            f"| `{runtime}` | {precisions} | `{DEFAULT_MODEL_FILE[runtime]}` | {defaults.get(runtime, '—')} |"
        )
    return "\n".join(lines) + "\n"


def table_in(doc: Path = RUNTIME_DOC) -> str:
    text = doc.read_text()
    return text[text.index(START) + len(START) : text.index(END)].strip("\n") + "\n"


def update_doc(doc: Path = RUNTIME_DOC) -> None:
    head, rest = doc.read_text().split(START, 1)
    tail = rest.split(END, 1)[1]
    doc.write_text(f"{head}{START}\n{runtime_table()}{END}{tail}")
