"""The local target: the real gunicorn stack (`python -m service`) on a baked tiny model."""

from __future__ import annotations

import pytest

from bench.local_service import LocalService
from service.bake.manifest import describe
from tests.contract.contract_target import CONTRACT_ENV, Target


@pytest.fixture(scope="session")
def target(baked_model_factory, tmp_path_factory):
    model_dir = baked_model_factory("onnx", "fp32")
    manifest = describe(model_dir)
    log = tmp_path_factory.mktemp("contract-local") / "service.log"
    with LocalService(model_dir, log, env=dict(CONTRACT_ENV)) as service:
        service.wait_ready(timeout_s=120)
        yield Target(service.url, manifest.model_id, manifest.revision, manifest.runtime, manifest.precision)
