"""Regenerate service/constraints.txt: the image's pins, taken from ../constraints.txt.

    .venv/bin/python service/bake/lock_runtime.py [--check]

One pin set for every stage of the image: the union of service/requirements-*.txt (onnx,
openvino and torch runtimes, the builder) + torch, and their transitive dependencies as installed in the
current environment; each is pinned at the version the repository-wide constraints.txt
(`make lock`) records. Each stage installs its own role file under it, so a stage gets exactly
the versions the tests ran against and nothing more. `--check` exits 1 when it is out of date.
"""

from __future__ import annotations

import re
import sys
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

HERE = Path(__file__).resolve().parent.parent  # service/: the image's build context
OUT = HERE / "constraints.txt"
REPO_CONSTRAINTS = HERE.parent / "constraints.txt"
HEADER = """\
# Full pin set of the image's stages (service/requirements-{onnx,openvino,torch,build}.txt + torch and
# everything they pull in), copied from the repository's constraints.txt so an image build
# resolves exactly what the tests ran against; each stage installs only its own role file under
# it. tests/service/test_service_dockerfile.py fails when the two drift: after `make lock`,
# regenerate with `.venv/bin/python service/bake/lock_runtime.py`.
"""
ROLES = (
    "requirements-onnx.txt",
    "requirements-openvino.txt",
    "requirements-torch.txt",
    "requirements-build.txt",
)
_PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==(\S+)")


def read_pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line.strip())
        if match:
            pins[canonicalize_name(match.group(1))] = f"{match.group(1)}=={match.group(2)}"
    return pins


def runtime_closure() -> set[str]:
    roots = [pin.split("==")[0] for role in ROLES for pin in read_pins(HERE / role).values()]
    seen: set[str] = set()
    stack = [*roots, "torch"]
    while stack:
        name = canonicalize_name(stack.pop())
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = distribution(name).requires or []
        except PackageNotFoundError:
            continue
        for text in requires:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                stack.append(req.name)
    return seen


def render() -> str:
    pins = read_pins(REPO_CONSTRAINTS)
    return HEADER + "".join(f"{pins[n]}\n" for n in sorted(runtime_closure()) if n in pins)


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        current = OUT.read_text(encoding="utf-8") if OUT.is_file() else ""
        if current != text:
            print("service/constraints.txt is out of date: run service/bake/lock_runtime.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
