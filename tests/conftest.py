"""Shared fixtures for the whole suite. Area-specific ones live in tests/<area>/conftest.py.

Models are generated, never downloaded (no network here): `bench.fake_model` writes a
random-weight extractive-QA checkpoint with a real fast tokenizer in well under a second.
"""

from __future__ import annotations

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
def tiny_model_dir(tiny_model_factory) -> Path:
    """A tiny random-weight DistilBERT-style QA checkpoint (config, safetensors, tokenizer.json)."""
    return tiny_model_factory("distilbert")
