"""Building the images under test, the way a user or CI does: `python -m infra image`."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from bench import containers
from bench.local_service import free_port
from tests.contract.contract_target import CONTRACT_ENV

ROOT = Path(__file__).resolve().parents[2]
VARIANTS = (("openvino", "auto"), ("onnx", "fp32"), ("onnx", "int8"), ("torch", "fp32"))
IMAGE_NAME = "qa-image-test"


TRANSIENT_ENGINE_ERROR = "sealing memfd copy: Device or resource busy"


def build_image(checkpoint: Path, runtime: str, precision: str, log: Path) -> str:
    """make image's code path; returns the reference it printed as its last line."""
    for _attempt in range(2):
        with log.open("w") as stderr:
            result = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "infra",
                    "image",
                    "--model-source",
                    str(checkpoint),
                    "--runtime",
                    runtime,
                    "--precision",
                    precision,
                    # no network for SQuAD: int8's accuracy gate scores the project's sample
                    "--build-arg",
                    "ACCURACY_DATA=builtin",
                    "--image",
                    f"{IMAGE_NAME}:{runtime}-{precision}",
                ],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                check=False,
            )
        # runc's chroot isolation sometimes fails a RUN step with this, under load; a rerun of the
        # same (layer-cached) build passes. Any other failure is the build's own.
        if result.returncode == 0 or TRANSIENT_ENGINE_ERROR not in log.read_text(errors="replace"):
            break
    tail = " | ".join(log.read_text(errors="replace").strip().splitlines()[-5:])
    assert result.returncode == 0, f"image build failed: {tail}"
    return result.stdout.strip().splitlines()[-1]


def build_derived(base: str, tag: str, steps: str) -> str:
    """A one-off image FROM `base` (buildah, the engine tests/image needs)."""
    with tempfile.TemporaryDirectory(prefix="qa-derived-") as tmp:
        (Path(tmp) / "Containerfile").write_text(f"FROM {base}\n{steps}\n", encoding="utf-8")
        result = subprocess.run(
            ["buildah", "bud", "--isolation", "chroot", "-q", "-t", tag, tmp],
            capture_output=True,
            text=True,
            check=False,
        )
    assert result.returncode == 0, result.stderr[-500:]
    return tag


def start_container(engine: str, image, memory_mib: int, **kwargs) -> containers.Container:
    port = free_port()
    assert port != 8080
    return containers.start(
        engine, image.reference, port=port, memory_mib=memory_mib, env=CONTRACT_ENV, **kwargs
    )
