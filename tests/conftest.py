"""Shared fixtures for the whole suite. Area-specific ones live in tests/<area>/conftest.py.

Models are generated, never downloaded (the suite runs offline): `bench.fake_model` writes a
random-weight extractive-QA checkpoint with a real fast tokenizer in well under a second.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_model_factory(tmp_path_factory) -> Callable[..., Path]:
    """`tiny_model_factory(arch="distilbert", seed=0)` -> Path of a cached tiny checkpoint.

    arch: "distilbert" (no token_type_ids), "bert" (token_type_ids), "roberta" (byte BPE).
    Built once per session per (arch, seed); treat the directory as read-only.
    """
    cache: dict[tuple[str, int], Path] = {}

    def make(arch: str = "distilbert", seed: int = 0) -> Path:
        if (arch, seed) not in cache:
            from bench.fake_model import make_fake_qa_model  # imports torch: only when used

            out = tmp_path_factory.mktemp(f"tiny-qa-{arch}-{seed}")
            cache[arch, seed] = make_fake_qa_model(out, preset="tiny", arch=arch, seed=seed)
        return cache[arch, seed]

    return make


@pytest.fixture(scope="session")
def baked_model_factory(tiny_model_factory, tmp_path_factory) -> Callable[..., Path]:
    """`baked_model_factory(runtime="onnx", precision="fp32", arch="distilbert", seed=0)` -> Path.

    The tiny checkpoint of (arch, seed) baked by `service.bake.bootstrap.bake` for that runtime and
    precision (ONNX: exported, fused, for int8 quantised; plus the manifest), as the image's
    builder stage does; int8 passes the accuracy gate on service/bake/accuracy_sample.json.
    Built once per session per combination; treat it as read-only.
    """
    cache: dict[tuple[str, str, str, int], Path] = {}

    def make(runtime: str = "onnx", precision: str = "fp32", arch: str = "distilbert", seed: int = 0) -> Path:
        key = (runtime, precision, arch, seed)
        if key not in cache:
            from service.bake.accuracy_data import BUILTIN
            from service.bake.bootstrap import bake

            source = tiny_model_factory(arch, seed)
            out = tmp_path_factory.mktemp(f"baked-{runtime}-{precision}-{arch}-{seed}")
            # int8's accuracy gate on the project's own sample: tests run without network.
            bake(
                str(source),
                None,
                out,
                runtime=runtime,
                precision=precision,
                model_id=f"tiny-{arch}",
                accuracy_data=BUILTIN,
            )
            cache[key] = out
        return cache[key]

    return make


@pytest.fixture(scope="session")
def wait_until() -> Callable[..., None]:
    """`wait_until(condition, what, timeout_s=30)`: poll until `condition()` is true, else fail
    naming `what`. Tests order events by the state they wait for, never by a sleep's length: a
    loaded machine only makes the wait longer."""

    def wait(condition: Callable[[], object], what: str, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > deadline:
                pytest.fail(f"not within {timeout_s:g} s: {what}")
            time.sleep(0.005)

    return wait


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_model_factory) -> Path:
    """A tiny random-weight DistilBERT-style QA checkpoint (config, safetensors, tokenizer.json)."""
    return tiny_model_factory("distilbert")
