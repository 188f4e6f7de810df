"""Generated checkpoints under models/ (git-ignored): one per preset, built once and reused.

The demo (`make bench`) and the studies (bench/studies/) share them; bench/fake_model.py makes
them (torch: imported only when a checkpoint must be generated).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"


def ensure_model(preset: str = "distilbert-base", root: Path = MODELS) -> Path:
    """The generated checkpoint for `preset` under `root`, made on first use."""
    path = root / preset
    if not (path / "config.json").is_file() or not any(path.glob("*.safetensors")):
        print(f"generating a random-weight {preset} checkpoint in {path} …", file=sys.stderr)
        from bench.fake_model import make_fake_qa_model  # noqa: PLC0415 — torch: only when needed

        make_fake_qa_model(path, preset=preset)
    return path
