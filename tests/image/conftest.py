"""The images under test: openvino auto (the CPU default), onnx fp32, onnx int8 and torch fp32 from a generated checkpoint, each
run as Cloud Run / Knative run it (bench.containers.platform_run_argv).

Needs podman + buildah (.ci/provision-containers.sh). Without them the tests skip with one line,
unless IMAGE_TEST_REQUIRE=1 (CI sets it), which turns a missing engine into a failure.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from image_helpers import VARIANTS, build_image, start_container

from bench import containers
from infra.local_image import checkpoint_digest
from infra.settings import settings_from_stack_files
from tests.contract.contract_target import Target

STACK = "dev"  # the memory cap is this stack's


@dataclass(frozen=True)
class BuiltImage:
    reference: str
    runtime: str
    precision: str
    model_id: str
    revision: str


@pytest.fixture(scope="session")
def engine() -> str:
    if not (shutil.which("podman") and shutil.which("buildah")):
        reason = "no container engine (podman + buildah): run .ci/provision-containers.sh"
        if os.environ.get("IMAGE_TEST_REQUIRE") == "1":
            pytest.fail(f"IMAGE_TEST_REQUIRE=1 but {reason}")
        pytest.skip(reason)
    return "podman"


@pytest.fixture(scope="session")
def memory_mib() -> int:
    return int(settings_from_stack_files(STACK).service.memory_mib)


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory) -> Path:
    """The tiny preset: same bytes every run, so the engine's layer cache keeps the bake."""
    from bench.fake_model import make_fake_qa_model

    return make_fake_qa_model(tmp_path_factory.mktemp("checkpoint") / "qa-tiny", preset="tiny")


@pytest.fixture(scope="session", params=VARIANTS, ids=["-".join(v) for v in VARIANTS])
def image(request, engine, checkpoint, tmp_path_factory) -> BuiltImage:
    runtime, precision = request.param
    log = tmp_path_factory.mktemp("build") / f"{runtime}-{precision}.log"
    reference = build_image(checkpoint, runtime, precision, log)
    return BuiltImage(reference, runtime, precision, checkpoint.name, checkpoint_digest(checkpoint))


@pytest.fixture(scope="session")
def container(engine, image, memory_mib):
    running = start_container(engine, image, memory_mib)
    try:
        containers.wait_answer(running, {"question": "What?", "context": "Roses are red."})
        yield running
    finally:
        running.remove()


@pytest.fixture(scope="session")
def target(container, image) -> Target:
    return Target(container.url, image.model_id, image.revision, image.runtime, image.precision)
