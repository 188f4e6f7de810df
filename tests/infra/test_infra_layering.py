"""The shape of infra/, checked by reading its imports: what may depend on what."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"


def _modules(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def _imports(path: Path) -> set[str]:
    """Every module a file imports (`from a.b import c` gives a.b and a.b.c)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_the_scan_sees_imports():
    """The checks below would pass vacuously if the scan found nothing."""
    imports = _imports(INFRA / "plan.py")
    assert "infra.settings" in imports and "infra.components.cloud_run" in imports


def test_infra_imports_nothing_from_bench():
    """The product does not depend on its benchmarks: the rollout gate, like the bench harness, is
    a client of the running service and shares its client (qaclient), not the harness."""
    offenders = {
        _rel(p): sorted(i for i in _imports(p) if i == "bench" or i.startswith("bench."))
        for p in [*_modules(INFRA), ROOT / "__main__.py"]
    }
    assert {k: v for k, v in offenders.items() if v} == {}
    # Nothing the Pulumi program imports reaches the rollout's HTTP client.
    program = _imports(ROOT / "__main__.py") | _imports(INFRA / "plan.py")
    assert not {i for i in program if i.startswith(("infra.rollout.gate", "infra.rollout.cli"))}


def test_the_client_is_owned_by_neither_infra_nor_bench():
    """qaclient is what both import; importing either back would make the cycle again."""
    offenders = {
        _rel(p): sorted(i for i in _imports(p) if i.split(".")[0] in ("infra", "bench", "policy"))
        for p in _modules(ROOT / "qaclient")
    }
    assert offenders and {k: v for k, v in offenders.items() if v} == {}
    # From the service it takes the route table alone (no Flask, no model).
    service = {i for p in _modules(ROOT / "qaclient") for i in _imports(p) if i.split(".")[0] == "service"}
    assert service <= {"service", "service.routes"}
    assert {"qaclient.auth", "qaclient.stats"} <= _imports(INFRA / "rollout" / "gate.py")


def test_no_component_imports_settings():
    """Components are plain functions of their Args: infra/plan.py maps settings to them."""
    offenders = {
        _rel(p): sorted(i for i in _imports(p) if i.startswith("infra.settings") or i == "infra.plan")
        for p in _modules(INFRA / "components")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_only_settings_reads_pulumi_config():
    readers = [
        _rel(p)
        for p in [*_modules(INFRA), ROOT / "__main__.py"]
        if "pulumi.Config(" in p.read_text() or "from pulumi import Config" in p.read_text()
    ]
    assert readers == ["infra/settings/reader.py"]


def test_facts_are_declared_once():
    """The GPU resource key and the builders are declared in infra/limits.py and imported elsewhere."""
    facts = ('"nvidia.com/gpu"', '("docker", "cloudbuild")', '("nvidia-l4",)', '"RAPID", "REGULAR", "STABLE"')
    for fact in facts:
        where = [_rel(p) for p in [*_modules(INFRA), *_modules(ROOT / "policy")] if fact in p.read_text()]
        assert where == ["infra/limits.py"], (fact, where)


def test_main_only_composes():
    """__main__.py declares components from the plan: no settings logic, no literal resource args."""
    text = (ROOT / "__main__.py").read_text()
    assert len(text.splitlines()) <= 80
    imports = _imports(ROOT / "__main__.py")
    assert "infra.plan" in imports or "infra.plan" in {i.rsplit(".", 1)[0] for i in imports}
    assert "googleapis.com" not in text and '"access"' not in text
