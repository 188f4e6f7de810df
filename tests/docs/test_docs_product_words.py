"""The project speaks of the product: no file (code, docs, comments, tests, CI) describes the
place or the tools it was written with instead of what a user runs."""

from __future__ import annotations

import re
from pathlib import Path

from docs_helpers import ROOT, project_files

THIS = Path(__file__).resolve().relative_to(ROOT).as_posix()
# Words of a workplace, never of the product. `sandbox` is a product word only as gVisor's.
WORKPLACE = re.compile(
    r"device tool|this task\b|\bsessions? (?:of|that built) this|\blent\b|\bCEO\b|issue note|integrator"
    r"|\bnot drawn\b|give_back|accelerator machine|(?<!gVisor )\bsandbox\b",
    re.IGNORECASE,
)


def test_no_file_speaks_of_the_workplace():
    found = []
    for name in project_files():
        if name == THIS or not (ROOT / name).is_file():
            continue
        try:
            text = (ROOT / name).read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # binary: plots, weights
        found += [
            f"{name}:{n}: {line.strip()}"
            for n, line in enumerate(text.splitlines(), 1)
            if WORKPLACE.search(line)
        ]
    assert not found, "\n".join(found)


def test_the_guard_catches_the_obvious_ones():
    for line in (
        "Running it with the device tool",
        "no GPU machine was lent to the session that built this",
        "said this task was not drawn",
        "the default ulimits (this sandbox refuses setrlimit)",
    ):
        assert WORKPLACE.search(line), line
    for line in ("no gVisor sandbox on these nodes", "the ONNX Runtime session", "a pytest session fixture"):
        assert not WORKPLACE.search(line), line
