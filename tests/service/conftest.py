"""Fixtures for the service tests: a loaded tiny model, settings, a Flask test client."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.app import create_app
from service.model import QAModel
from service.settings import Settings


@pytest.fixture(scope="session")
def qa_model(tiny_model_dir: Path) -> QAModel:
    return QAModel.load(tiny_model_dir, num_threads=1)


@pytest.fixture
def settings(tiny_model_dir: Path) -> Settings:
    return Settings(
        model_dir=tiny_model_dir,
        model_id="test/tiny-qa",
        model_revision="0123abc",
        num_threads=1,
        max_context_chars=5_000,
        max_body_bytes=20_000,
    )


@pytest.fixture
def client(settings: Settings, qa_model: QAModel):
    return create_app(settings, model=qa_model).test_client()
