"""service/bake/manifest.py as the one source of the artifact contract's values."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from service.bake import manifest

SERVICE = Path(__file__).resolve().parents[3] / "service"


def test_the_pairs_are_the_runtimes_with_their_precisions():
    assert manifest.SUPPORTED_PAIRS == (
        ("onnx", "fp32"),
        ("onnx", "int8"),
        ("openvino", "auto"),
        ("openvino", "fp32"),
        ("openvino", "bf16"),
        ("openvino", "int8"),
        ("torch", "fp32"),
    )
    assert set(manifest.SUPPORTED) == set(manifest.RUNTIMES)
    assert {p for _, p in manifest.SUPPORTED_PAIRS} == {*manifest.PRECISIONS, manifest.AUTO_PRECISION}


@pytest.mark.parametrize(("runtime", "precision"), manifest.SUPPORTED_PAIRS)
def test_every_supported_pair_passes(runtime, precision):
    assert manifest.pair_problem(runtime, precision) is None


def test_an_unsupported_pair_names_every_valid_one():
    problem = manifest.pair_problem("torch", "int8")
    assert (
        problem
        == "runtime/precision torch/int8 is not valid: valid are onnx/fp32, onnx/int8, openvino/auto, openvino/fp32, openvino/bf16, openvino/int8, torch/fp32"
    )


def test_no_other_service_module_declares_the_contract_again():
    """RUNTIMES, PRECISIONS, SUPPORTED*, KNOWN_INPUTS, METADATA_FILE: assigned in manifest.py only."""
    names = {"RUNTIMES", "PRECISIONS", "SUPPORTED", "SUPPORTED_PAIRS", "KNOWN_INPUTS", "METADATA_FILE"}
    owners: dict[str, list[str]] = {}
    for path in SERVICE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id in names:
                        owners.setdefault(target.id, []).append(str(path.relative_to(SERVICE)))
    assert owners == {name: ["bake/manifest.py"] for name in names}


def test_the_manifest_module_needs_only_the_standard_library():
    """infra and the ONNX serving path import it: no third-party or service imports."""
    tree = ast.parse((SERVICE / "bake" / "manifest.py").read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert imported <= {"__future__", "hashlib", "json", "dataclasses", "pathlib"}
