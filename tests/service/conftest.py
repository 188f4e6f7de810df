"""Fixtures for the service tests: a loaded tiny model, settings, a Flask test client.

`runtime` is parametrized: every test that uses `served_model_dir`, `qa_model`, `settings` or
`client` runs once on the torch backend and once on the ONNX Runtime backend, each from a
directory baked by service.bake.bootstrap (with its manifest), so both runtimes pass the same tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from service.app import create_app
from service.qa.model import QAModel
from service.settings import Settings

# The ONNX half needs an export (seconds, once per session): `slow`, so `make test-fast` runs
# these tests on torch only and `make test` on both.
RUNTIMES = (
    "torch",
    pytest.param("onnx", marks=pytest.mark.slow),
    pytest.param("openvino", marks=pytest.mark.slow),  # an ONNX export + IR conversion
)


@pytest.fixture(scope="session", params=RUNTIMES)
def runtime(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def served_model_dir(runtime: str, baked_model_factory) -> Path:
    """The tiny DistilBERT-style checkpoint, baked for `runtime` (fp32)."""
    return baked_model_factory(runtime, "fp32")


@pytest.fixture(scope="session")
def qa_model(served_model_dir: Path) -> QAModel:
    return QAModel.load(served_model_dir, num_threads=1)


@pytest.fixture
def settings(served_model_dir: Path, runtime: str) -> Settings:
    return Settings(
        model_dir=served_model_dir,
        model_id="test/tiny-qa",
        model_revision="0123abc",
        num_threads=1,
        max_context_chars=5_000,
        max_body_bytes=20_000,
        runtime=runtime,
    )


@pytest.fixture
def client(settings: Settings, qa_model: QAModel):
    return create_app(settings, model=qa_model).test_client()


@pytest.fixture(scope="session")
def base_model_dir(tmp_path_factory) -> Path:
    """A DistilBERT-base-shaped random checkpoint (66M parameters): real per-request cost."""
    from bench.fake_model import make_fake_qa_model  # imports torch: only when used

    return make_fake_qa_model(tmp_path_factory.mktemp("base-qa"), preset="distilbert-base")
