"""Every relative link in every markdown file of the repository points at something that exists:
the file, and the heading when the link names one (GitHub's anchors)."""

from __future__ import annotations

import re

import pytest
from docs_helpers import ROOT, project_files

MARKDOWN = project_files("*.md")
# [text](target) outside code; absolute URLs and mail links are not files.
LINK = re.compile(r"\]\(([^()\s]+)\)")


def links(text: str) -> list[str]:
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    prose = re.sub(r"`[^`\n]*`", "", prose)
    return [t for t in LINK.findall(prose) if not re.match(r"[a-z]+:", t)]


def anchors(text: str) -> set[str]:
    """GitHub's heading ids: lower case, punctuation but `-` and `_` dropped, spaces to `-`."""
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    found: set[str] = set()
    for heading in re.findall(r"^#{1,6} (.+)$", prose, re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        found.add(slug)
    return found


def test_the_markdown_files_are_found():
    assert {
        "README.md",
        "docs/knative.md",
        "service/README.md",
        "bench/README.md",
        "policy/README.md",
    } <= set(MARKDOWN)


@pytest.mark.parametrize("name", MARKDOWN)
def test_every_relative_link_resolves(name):
    page = ROOT / name
    broken = []
    for target in links(page.read_text()):
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no {file.relative_to(ROOT) if file.is_relative_to(ROOT) else file}")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file.read_text()):
            broken.append(f"{target}: no heading #{anchor} in {file.relative_to(ROOT)}")
    assert not broken, f"{name}:\n" + "\n".join(broken)


def test_the_anchor_rule_matches_githubs():
    text = "## The service's own metrics\n### Runtimes: ONNX Runtime, OpenVINO and torch\n"
    assert anchors(text) == {"the-services-own-metrics", "runtimes-onnx-runtime-openvino-and-torch"}
