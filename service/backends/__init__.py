"""Model backends: padded window arrays in, (start_logits, end_logits) out, all NumPy.

Tokenization and span decoding (service/tokenization.py, service/spans.py) never import a
framework; only the backend module that is actually used does. The torch backend is the
first; an ONNX Runtime one can slot in behind the same interface without torch installed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

# The inputs extractive-QA encoders take; a backend reports the subset its model accepts.
KNOWN_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class Backend(Protocol):
    name: str
    input_names: tuple[str, ...]  # subset of KNOWN_INPUTS the model accepts

    def __call__(self, inputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """int64 arrays [windows, seq] -> float32 (start_logits, end_logits) [windows, seq]."""
        ...


def load_backend(name: str, model_dir: Path, num_threads: int) -> Backend:
    if name == "torch":
        from service.backends.torch_backend import TorchBackend  # noqa: PLC0415 - optional dep

        return TorchBackend(model_dir, num_threads=num_threads)
    raise ValueError(f"unknown backend {name!r}; available: torch")
