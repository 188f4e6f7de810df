"""Generated checkpoints under models/ (git-ignored): one per preset, built once and reused.

The demo (`make bench`), the cold-start timer and the studies (bench/studies/) share them;
bench/fake_model.py makes the checkpoint (torch: imported only when one must be generated) and
`ensure_baked` bakes it with `python -m service.bake` for a runtime and precision, exactly as
the image's build stage does, so local numbers are the default runtime's unless asked otherwise.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from service.bake.accuracy_data import BUILTIN

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
MANIFEST = "service_manifest.json"  # written by service.bake once a bake completed
# The stack whose image a local demo imitates when no runtime is asked for: the CPU default.
IMAGE_STACK = "dev"


def image_pair(stack: str = IMAGE_STACK) -> tuple[str, str]:
    """(runtime, precision) that `stack`'s image bakes: `make image`'s and `pulumi up`'s build args."""
    from infra.plan import image_build_args  # noqa: PLC0415 — pulumi: only when a default is needed
    from infra.settings import settings_from_stack_files  # noqa: PLC0415

    build_args = image_build_args(settings_from_stack_files(stack))
    return build_args["RUNTIME"], build_args["PRECISION"]


def ensure_model(preset: str = "distilbert-base", root: Path = MODELS) -> Path:
    """The generated checkpoint for `preset` under `root`, made on first use."""
    path = root / preset
    if not (path / "config.json").is_file() or not any(path.glob("*.safetensors")):
        print(f"generating a random-weight {preset} checkpoint in {path} …", file=sys.stderr)
        from bench.fake_model import make_fake_qa_model  # noqa: PLC0415 — torch: only when needed

        make_fake_qa_model(path, preset=preset)
    return path


def baked_path(preset: str, runtime: str, precision: str, root: Path = MODELS) -> Path:
    return root / f"{preset}-{runtime}-{precision}"


def is_baked(path: Path) -> bool:
    return (path / MANIFEST).is_file()


def ensure_baked(preset: str, runtime: str = "onnx", precision: str = "fp32", root: Path = MODELS) -> Path:
    """models/<preset>-<runtime>-<precision>: the preset's checkpoint baked by service.bake."""
    out = baked_path(preset, runtime, precision, root)
    if not is_baked(out):
        source = ensure_model(preset, root)
        print(f"baking {out.name} (python -m service.bake) …", file=sys.stderr)
        # Random weights score ~nothing in any precision: int8's accuracy gate runs on the
        # project's own sample (offline), which it passes; the gate matters for real checkpoints.
        command = [
            sys.executable,
            "-m",
            "service.bake",
            "--source",
            str(source),
            "--out",
            str(out),
            "--runtime",
            runtime,
            "--precision",
            precision,
            "--model-id",
            f"{preset}-random",
            "--accuracy-data",
            BUILTIN,
            "--skip-verify",
        ]
        subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return out
