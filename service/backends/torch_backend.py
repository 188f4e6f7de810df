"""PyTorch backend: `AutoModelForQuestionAnswering` from safetensors, offline, inference mode."""

from __future__ import annotations

import inspect
import logging
import os
from pathlib import Path

import numpy as np

from service.backends import KNOWN_INPUTS

# Never reach for the Hub at runtime: the image bakes the model in; a missing file must fail.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

import torch  # imported after the offline switch above
import transformers
from transformers import AutoModelForQuestionAnswering

log = logging.getLogger(__name__)


def _quiet_transformers() -> None:
    # transformers prints progress bars and installs its own stderr handler; route its
    # records through the root (JSON) handler instead, so every log line stays one JSON line.
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_warning()
    transformers.utils.logging.disable_default_handler()
    transformers.utils.logging.enable_propagation()


class TorchBackend:
    name = "torch"

    def __init__(self, model_dir: Path, *, num_threads: int) -> None:
        _quiet_transformers()
        torch.set_num_threads(num_threads)
        self.model = AutoModelForQuestionAnswering.from_pretrained(
            str(model_dir), local_files_only=True, use_safetensors=True
        )
        self.model.eval()
        accepted = inspect.signature(self.model.forward).parameters
        self.input_names = tuple(name for name in KNOWN_INPUTS if name in accepted)
        self.num_threads = num_threads
        log.info(
            "torch model loaded",
            extra={
                "model_type": self.model.config.model_type,
                "torch_threads": torch.get_num_threads(),
                "inputs": list(self.input_names),
            },
        )

    def __call__(self, inputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        tensors = {name: torch.from_numpy(array) for name, array in inputs.items()}
        with torch.inference_mode():
            output = self.model(**tensors)
        return (
            output.start_logits.float().numpy(),
            output.end_logits.float().numpy(),
        )
