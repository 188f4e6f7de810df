"""The README and docs/ as users and reviewers rely on them: short front page, each table in one
place and current, every command real and runnable as written from the repository root."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from infra.offline import docs, runtime_docs
from infra.settings import settings_from_stack_files
from policy.docs import BEGIN, END, rule_table
from service.bake.manifest import RUNTIMES

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
MAKEFILE = (ROOT / "Makefile").read_text()
DOCS = {path.relative_to(ROOT).as_posix(): path.read_text() for path in sorted((ROOT / "docs").glob("*.md"))}
PAGES = {"README.md": README, **DOCS}
FRONT_PAGE_LINES = 150


def code_blocks(text: str) -> list[str]:
    return re.findall(r"```(?:bash|console|sh)\n(.*?)```", text, re.S)


def inline_code(text: str) -> list[str]:
    return re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S))


def test_readme_shows_the_two_commands_and_the_test_command_is_what_ci_runs():
    assert "make install" in README
    assert "make test" in README
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_front_page_is_short():
    assert len(README.splitlines()) <= FRONT_PAGE_LINES


def test_config_table_is_generated_from_pulumi_yaml():
    assert docs.table_in(docs.CONFIG_DOC) == docs.config_table(), (
        "stale: run .venv/bin/python -m infra config-table --write docs/configuration.md"
    )


def test_runtime_table_is_generated_from_the_manifest_and_the_settings():
    assert runtime_docs.table_in() == runtime_docs.runtime_table(), (
        "stale: run .venv/bin/python -m infra runtime-table --write service/README.md"
    )


def test_runtime_table_has_every_runtime_and_says_which_are_the_stack_defaults():
    rows = runtime_docs.runtime_table().splitlines()[2:]
    assert [re.match(r"\| `(\w+)`", row).group(1) for row in rows] == list(RUNTIMES)
    cpu = settings_from_stack_files("dev").model.runtime
    gpu = settings_from_stack_files("dev", {"gpu": "nvidia-l4"}).model.runtime
    assert f"| `{cpu}` |" in next(row for row in rows if "CPU stacks" in row)
    assert f"| `{gpu}` |" in next(row for row in rows if "GPU stacks" in row)


def test_gpu_page_shows_the_runtime_each_stack_gets():
    # docs/gpu.md's table of derived settings: its runtime row, with and without a GPU.
    row = next(line for line in DOCS["docs/gpu.md"].splitlines() if line.startswith("| `runtime` |"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    gpu = settings_from_stack_files("dev", {"gpu": "nvidia-l4"}).model.runtime
    assert cells[2].startswith(f"`{gpu}`"), row
    assert cells[3] == f"`{settings_from_stack_files('dev').model.runtime}`", row


def test_config_table_covers_every_key_once():
    rows = [line for line in docs.config_table().splitlines()[2:] if line.startswith("| `")]
    keys = [re.match(r"\| `(\w+)`", row).group(1) for row in rows]
    assert len(keys) == len(set(keys)) > 0


def test_config_doc_update_replaces_only_the_table(tmp_path):
    doc = tmp_path / "configuration.md"
    doc.write_text(f"intro\n{docs.START}\n| stale |\n{docs.END}\noutro\n")
    docs.update_doc(doc)
    text = doc.read_text()
    assert text.startswith("intro\n") and text.endswith("outro\n")
    assert docs.table_in(doc) == docs.config_table()


@pytest.mark.parametrize(
    ("marker", "home"),
    [
        (docs.START, "docs/configuration.md"),
        (BEGIN, "policy/README.md"),
        ("| setting | Cloud Run", "docs/knative.md"),
    ],
)
def test_each_table_lives_in_one_place(marker, home):
    homes = [
        name
        for name, text in {**PAGES, "policy/README.md": (ROOT / "policy/README.md").read_text()}.items()
        if marker in text
    ]
    assert homes == [home]


def test_policy_rule_table_in_policy_readme_is_the_catalog():
    text = (ROOT / "policy" / "README.md").read_text()
    begin, end = text.index(BEGIN), text.index(END) + len(END)
    assert text[begin:end] == rule_table(), "stale: paste the output of .venv/bin/python -m policy rules"


def test_every_make_target_the_docs_use_exists():
    defined = set(re.findall(r"^([a-z][a-z-]*):", MAKEFILE, re.M))
    shown = [s for text in PAGES.values() for s in [*code_blocks(text), *inline_code(text)]]
    used = {
        target for snippet in shown for target in re.findall(r"(?:^|[\s$;(])make ([a-z][a-z-]*)", snippet)
    }
    assert "install" in used and "test" in used
    assert used <= defined, f"docs use undefined targets: {sorted(used - defined)}"


# Commands that run inside the image, where the venv's python is on PATH (service/README.md's
# Dockerfile stages, and the service's own message telling an operator how to rebuild /model).
IN_THE_IMAGE = {
    "python -m service.bake",
    "python -m service.bake --runtime $RUNTIME --precision $PRECISION --out /model",
    "python -m service.bake --verify /model",
    "Popen(python -m service)",
}
ALL_PAGES = {
    **PAGES,
    **{
        name: (ROOT / name).read_text()
        for name in ("bench/README.md", "policy/README.md", "service/README.md")
    },
}


@pytest.mark.parametrize("name", sorted(ALL_PAGES))
def test_python_commands_in_the_docs_work_without_activating_the_venv(name):
    # A bare `python -m …` fails with ModuleNotFoundError outside an activated .venv; fenced
    # blocks are checked (and run) by test_docs_fenced_commands.py.
    bare = [s for s in inline_code(ALL_PAGES[name]) if re.search(r"(?<![\w/.])python3? -m ", s)]
    assert set(bare) <= IN_THE_IMAGE, bare


MODULE_COMMANDS = sorted(
    {
        (module, command or "")
        for text in PAGES.values()
        for module, command in re.findall(
            r"python -m (infra|policy|bench|service\.bake|bench\.fake_model)\b(?: ([a-z][a-z-]*))?", text
        )
        if module in ("infra", "policy", "bench") or not command
    }
)


@pytest.mark.slow
@pytest.mark.parametrize(("module", "command"), MODULE_COMMANDS)
def test_every_python_m_command_the_docs_use_exists(module, command):
    argv = [sys.executable, "-m", module, *([command] if command else []), "--help"]
    result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout


def test_readme_links_the_table_homes():
    for home in ("docs/configuration.md", "docs/knative.md", "policy/README.md"):
        assert f"]({home})" in README, home


SOURCES = [
    p
    for pattern in ("**/*.py", "**/*.yaml", "**/Makefile", "**/Dockerfile", "**/*.toml")
    for p in ROOT.glob(pattern)
    if not {".venv", "models", ".pulumi-state"} & set(p.relative_to(ROOT).parts)
]


def test_no_issue_numbers_in_code_config_or_comments():
    # Tracker numbers go stale and mean nothing to a reader; the README and docs say what and why.
    pattern = re.compile(r"[Ii]ssues? #?\d+|(?<![\w&/\"'])#\d+\b(?![0-9a-fA-F])")
    found = [
        f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
        for p in SOURCES
        for n, line in enumerate(p.read_text(errors="replace").splitlines(), 1)
        if pattern.search(line)
    ]
    assert not found, "\n".join(found)
