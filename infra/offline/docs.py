"""The README's table of config keys, generated from Pulumi.yaml so docs and code cannot drift.

`python -m infra config-table --write README.md` refreshes it; a test fails when it is stale.
"""

from __future__ import annotations

from pathlib import Path

from infra.settings import stack_files

START, END = "<!-- config-table:start -->", "<!-- config-table:end -->"


def config_table(root: Path = stack_files.ROOT) -> str:
    """One row per project key: type, default, what each shipped stack sets, meaning."""
    schema = stack_files.config_schema(root)
    stacks = stack_files.available_stacks(root)
    resolved = {s: stack_files.resolve(s, root=root).project_values() for s in stacks}
    lines = [
        "| key | type | default | " + " | ".join(f"`{s}`" for s in stacks) + " | meaning |",
        "|" + "---|" * (4 + len(stacks)),
    ]
    for key, entry in schema.items():
        default = stack_files.to_config_string(entry["default"])
        per_stack = [resolved[s].get(key, default) for s in stacks]
        cells = [f"`{value}`" if value != default else "" for value in per_stack]
        description = entry["description"].replace("|", "\\|")
        lines.append(
            f"| `{key}` | {entry['type']} | `{default or chr(34) * 2}` | "
            + " | ".join(cells)
            + f" | {description} |"
        )
    return "\n".join(lines) + "\n"


def readme_table(readme: Path) -> str:
    text = readme.read_text()
    return text[text.index(START) + len(START) : text.index(END)].strip("\n") + "\n"


def update_readme(readme: Path) -> None:
    head, rest = readme.read_text().split(START, 1)
    tail = rest.split(END, 1)[1]
    readme.write_text(f"{head}{START}\n{config_table()}{END}{tail}")
