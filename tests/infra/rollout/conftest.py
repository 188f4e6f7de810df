"""The rollout tests' stand-ins (fault proxy, `pulumi` CLI) live beside them; real service
processes standing for the serving and candidate revisions are shared by the gate tests."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(scope="package")
def services(tiny_model_factory, tmp_path_factory):
    """serving (seed 0), a good candidate (same model) and another model (seed 1), all ready."""
    from rollout_faults import MODEL_REVISION

    from bench.local_service import LocalService

    logs = tmp_path_factory.mktemp("gate-logs")
    env = {"MODEL_REVISION": MODEL_REVISION, "MODEL_ID": "test/tiny-qa"}
    running = {
        "serving": LocalService(tiny_model_factory("distilbert", 0), logs / "serving.log", env),
        "good": LocalService(tiny_model_factory("distilbert", 0), logs / "good.log", env),
        "other": LocalService(tiny_model_factory("distilbert", 1), logs / "other.log", env),
    }
    try:
        for service in running.values():
            service.start()
        for service in running.values():
            service.wait_ready()
        yield running
    finally:
        for service in running.values():
            service.stop()
