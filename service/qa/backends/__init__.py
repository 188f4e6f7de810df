"""Model backends: padded window arrays in, (start_logits, end_logits) out, all NumPy.

Tokenization and span decoding (service/qa/tokenization.py, service/qa/spans.py) never import a
framework; only the backend module that is actually used does: `onnx` imports
onnxruntime (never torch or transformers), `openvino_backend` imports openvino (likewise),
`torch` imports torch + transformers.
Which one serves a directory is recorded in its manifest (service/bake/manifest.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from service.bake.manifest import KNOWN_INPUTS, RUNTIMES

__all__ = ["KNOWN_INPUTS", "Backend", "load_backend"]


class Backend(Protocol):
    name: str
    input_names: tuple[str, ...]  # subset of KNOWN_INPUTS the model accepts
    # True: call only from the dedicated inference threads (service/inference.py); a backend
    # without the attribute is treated as True.
    thread_affine: bool

    def __call__(self, inputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """int64 arrays [windows, seq] -> float32 (start_logits, end_logits) [windows, seq]."""
        ...


def load_backend(
    name: str,
    model_dir: Path,
    num_threads: int,
    *,
    model_file: str | None = None,
    precision: str = "fp32",
    device: str = "auto",
    allow_spinning: bool = True,
    cache_dir: Path | None = None,
) -> Backend:
    """Import and build backend `name` (imports happen here, so only the used one loads)."""
    if name == "onnx":
        if device == "cuda":
            raise ValueError("DEVICE=cuda needs the torch runtime; the ONNX backend runs on CPU")
        from service.qa.backends.onnx import OnnxBackend  # noqa: PLC0415 - optional dep

        return OnnxBackend(
            model_dir,
            num_threads=num_threads,
            model_file=model_file or "model.onnx",
            precision=precision,
            allow_spinning=allow_spinning,
        )
    if name == "openvino":
        if device == "cuda":
            raise ValueError("DEVICE=cuda needs the torch runtime; the OpenVINO backend runs on CPU")
        from service.qa.backends.openvino_backend import OpenVinoBackend  # noqa: PLC0415 - optional dep

        return OpenVinoBackend(
            model_dir,
            num_threads=num_threads,
            model_file=model_file or "model.xml",
            precision=precision,
            cache_dir=cache_dir,
        )
    if name == "torch":
        from service.qa.backends.torch import TorchBackend  # noqa: PLC0415 - optional dep

        return TorchBackend(model_dir, num_threads=num_threads, device=device)
    raise ValueError(f"unknown backend {name!r}; available: {', '.join(RUNTIMES)}")
