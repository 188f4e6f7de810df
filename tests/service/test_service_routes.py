"""The service's paths are declared once, in service/routes.py: everything that names one (the
app, its OpenAPI document, probes, monitoring, the rollout gate, the client, the benchmarks)
imports it. Read from the source, so a new literal fails here before it drifts."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from service import routes

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("infra", "service", "policy", "bench", "qaclient")
ROUTES_MODULE = ROOT / "service" / "routes.py"
# A route as a path of a URL, a label value or a message: "/ready", f"{url}/predict", 'route="/predict"'.
ROUTE = re.compile(r"(?<![\w./-])(" + "|".join(re.escape(r) for r in routes.ALL) + r")(?![\w-])")


def _modules() -> list[Path]:
    found = [ROOT / "__main__.py"]
    for folder in SOURCES:
        found += sorted(p for p in (ROOT / folder).rglob("*.py") if "__pycache__" not in p.parts)
    return found


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the docstring nodes: prose that may name a route (it documents it)."""
    kinds = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, kinds)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }


def route_literals(path: Path) -> list[str]:
    """`line: text` of every string in the code (not a docstring or comment) that spells a route."""
    tree = ast.parse(path.read_text())
    prose = _docstrings(tree)
    found = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in prose
        and ROUTE.search(node.value)
    ]
    return [
        f"{node.lineno}: {node.value!r}" for node in sorted(found, key=lambda n: (n.lineno, n.col_offset))
    ]


def test_the_scan_finds_a_spelled_route(tmp_path):
    """The check below would pass vacuously if the scan missed literals."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""Docs may say GET /ready."""\n'
        'URL = f"{base}/predict"\n'
        "QUERY = 'route=\"/predict\"'\n"
        'OK = "/readyz-not-a-route/health-x"\n'
        'NOTE = "see /metrics."\n'
    )
    assert route_literals(sample) == ["2: '/predict'", "3: 'route=\"/predict\"'", "5: 'see /metrics.'"]
    assert route_literals(ROUTES_MODULE)  # the one place that spells them


def test_no_module_but_the_routes_module_spells_a_route():
    offenders = {
        path.relative_to(ROOT).as_posix(): found
        for path in _modules()
        if path != ROUTES_MODULE and (found := route_literals(path))
    }
    assert offenders == {}, "import the path from service/routes.py instead"


def test_the_routes_are_what_the_contract_names():
    # The contract (the README and the platforms' probes rely on it): change only on purpose.
    assert routes.ALL == ("/predict", "/health", "/ready", "/openapi.json", "/metrics")
    assert not any(route.endswith("z") for route in routes.ALL)  # Cloud Run reserves some /…z paths
