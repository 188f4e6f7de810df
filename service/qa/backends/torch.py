"""PyTorch backend: `AutoModelForQuestionAnswering` from safetensors, offline, inference mode.

The reference runtime, and the one for GPUs: on CUDA (e.g. Cloud Run's L4) the weights are
cast to fp16 and inputs moved to the device; logits come back as float32 NumPy on the CPU.
"""

from __future__ import annotations

import inspect
import logging
import os
from pathlib import Path

import numpy as np

from service.bake.manifest import KNOWN_INPUTS

# Never reach for the Hub at runtime: the image bakes the model in; a missing file must fail.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

import torch  # imported after the offline switch above
import transformers
from transformers import AutoModelForQuestionAnswering

log = logging.getLogger(__name__)

DEVICES = ("auto", "cpu", "cuda")


def _quiet_transformers() -> None:
    # transformers prints progress bars and installs its own stderr handler; route its
    # records through the root (JSON) handler instead, so every log line stays one JSON line.
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_warning()
    transformers.utils.logging.disable_default_handler()
    transformers.utils.logging.enable_propagation()


def select_device(requested: str = "auto", cuda=None) -> tuple[torch.device, torch.dtype]:
    """(device, weight dtype): CUDA + fp16 when a GPU is there (or asked for), else CPU + fp32.

    `cuda` defaults to `torch.cuda`; tests pass a stand-in to exercise the GPU branch on CPU.
    """
    cuda = torch.cuda if cuda is None else cuda
    if requested not in DEVICES:
        raise ValueError(f"DEVICE={requested!r} is not valid: expected one of {', '.join(DEVICES)}")
    if requested == "cpu":
        return torch.device("cpu"), torch.float32
    if cuda.is_available():
        # fp16 halves memory traffic and uses the tensor cores; QA logits only feed a softmax
        # and an argmax, which fp16 keeps (the spans match fp32 on the golden set's models).
        return torch.device("cuda", cuda.current_device()), torch.float16
    if requested == "cuda":
        raise RuntimeError("DEVICE=cuda but torch sees no CUDA device (CPU-only torch, or no GPU)")
    return torch.device("cpu"), torch.float32


class TorchBackend:
    name = "torch"
    # OpenMP keeps one thread team per calling thread: run only on the dedicated inference
    # threads (service/inference.py).
    thread_affine = True

    def __init__(
        self,
        model_dir: Path,
        *,
        num_threads: int,
        device: str = "auto",
        cuda=None,
        placement: tuple[torch.device, torch.dtype] | None = None,
    ) -> None:
        """`placement` overrides the (device, dtype) choice: (cpu, float16) stands in for a GPU's
        fp16 path where there is none (tests, `python -m bench gpu --device cpu`)."""
        _quiet_transformers()
        torch.set_num_threads(num_threads)
        self.device, self.dtype = placement or select_device(device, cuda)
        self.model = AutoModelForQuestionAnswering.from_pretrained(
            str(model_dir), local_files_only=True, use_safetensors=True
        )
        self.model.eval()
        if self.device.type != "cpu" or self.dtype != torch.float32:
            self.model.to(self.device, dtype=self.dtype)
        accepted = inspect.signature(self.model.forward).parameters
        self.input_names = tuple(name for name in KNOWN_INPUTS if name in accepted)
        self.num_threads = num_threads
        self.precision = "fp16" if self.dtype == torch.float16 else "fp32"
        log.info(
            "torch model loaded",
            extra={
                "model_type": self.model.config.model_type,
                "torch_threads": torch.get_num_threads(),
                "device": str(self.device),
                "dtype": str(self.dtype).removeprefix("torch."),
                "inputs": list(self.input_names),
            },
        )

    def __call__(self, inputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        tensors = {name: torch.from_numpy(array) for name, array in inputs.items()}
        if self.device.type != "cpu":
            tensors = {name: t.to(self.device, non_blocking=True) for name, t in tensors.items()}
        with torch.inference_mode():
            output = self.model(**tensors)
        # .float() before leaving the device: fp16 logits become float32 for decoding.
        return (
            output.start_logits.float().cpu().numpy(),
            output.end_logits.float().cpu().numpy(),
        )
