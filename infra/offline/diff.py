"""What changed between two JSON renders of a stack, as markdown for a pull-request comment.

Pull requests change code; reviewers need to see what that does to the infrastructure. Render the
stack on the base and on the head commit, then `python -m infra diff base.json head.json`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.cost.from_render import cost_line
from infra.cost.model import REVIEW_RPS
from infra.offline.flat import flatten


@dataclass
class StackDiff:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, list[tuple[str, Any, Any]]] = field(default_factory=dict)  # name → (key, old, new)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


_MISSING = object()


def _key(resource: dict[str, Any]) -> str:
    return f"{resource['name']} ({resource['type']})"


def diff_renders(base: list[dict[str, Any]], head: list[dict[str, Any]]) -> StackDiff:
    before = {_key(r): r for r in base}
    after = {_key(r): r for r in head}
    result = StackDiff(added=sorted(set(after) - set(before)), removed=sorted(set(before) - set(after)))
    for key in sorted(set(before) & set(after)):
        old, new = flatten(before[key]["inputs"], by_name=True), flatten(after[key]["inputs"], by_name=True)
        if before[key]["parent"] != after[key]["parent"]:
            old["(parent)"], new["(parent)"] = before[key]["parent"], after[key]["parent"]
        changes = [
            (field_name, old.get(field_name, _MISSING), new.get(field_name, _MISSING))
            for field_name in sorted(set(old) | set(new))
            if old.get(field_name, _MISSING) != new.get(field_name, _MISSING)
        ]
        if changes:
            result.changed[key] = changes
    return result


def _show(value: Any) -> str:
    if value is _MISSING:
        return "—"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return "`" + text.replace("|", "\\|").replace("`", "'") + "`"


def to_markdown(stack: str, diff: StackDiff) -> str:
    if diff.empty:
        return f"### `{stack}`: no infrastructure change\n"
    lines = [
        f"### `{stack}`: {len(diff.added)} to add, {len(diff.changed)} to change, "
        f"{len(diff.removed)} to delete",
        "",
    ]
    lines += [f"- **add** {name}" for name in diff.added]
    lines += [f"- **delete** {name}" for name in diff.removed]
    for name, changes in diff.changed.items():
        lines += ["", f"**change** {name}", "", "| input | before | after |", "|---|---|---|"]
        lines += [f"| `{key}` | {_show(old)} | {_show(new)} |" for key, old, new in changes]
    return "\n".join(lines) + "\n"


def diff_files(stack: str, base: Path, head: Path) -> str:
    """Markdown for one stack; a missing base file (a stack the PR adds) counts as empty. A change
    ends with what it does to the monthly cost."""
    base_resources = json.loads(base.read_text()) if base.exists() else []
    head_resources = json.loads(head.read_text())
    stack_diff = diff_renders(base_resources, head_resources)
    text = to_markdown(stack, stack_diff)
    if stack_diff.empty or not (line := cost_line(base_resources, head_resources, REVIEW_RPS)):
        return text
    return f"{text}\n{line}\n"
