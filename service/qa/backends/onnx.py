"""ONNX Runtime backend: the exported graph (service/bake/export.py) on the CPU execution provider.

Imports onnxruntime and NumPy only - never torch or transformers (tests check sys.modules).
The graph was fused (attention, layer norm, GELU) and, for int8, quantised at build time;
what is left for session creation is ORT's own graph optimisation, which is fast on the
pre-fused graph (service/README.md, "Start-up").
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import onnxruntime as ort

from service.bake.manifest import KNOWN_INPUTS

log = logging.getLogger(__name__)

OUTPUTS = ("start_logits", "end_logits")


def session_options(num_threads: int, *, allow_spinning: bool) -> ort.SessionOptions:
    options = ort.SessionOptions()
    # One request's windows run as one batch on `num_threads` intra-op threads (= vCPUs);
    # the graph is a chain, so no inter-op parallelism to gain.
    options.intra_op_num_threads = num_threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Spinning: idle intra-op threads busy-wait for the next parallel section instead of
    # sleeping. Measured under the real server (service/README.md), chosen in settings.
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if allow_spinning else "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    options.log_severity_level = 3  # errors only; ORT's warnings are not JSON lines
    return options


class OnnxBackend:
    name = "onnx"
    # The intra-op thread pool belongs to the session, not to the calling thread: requests may
    # run it from their own threads (service/app.py skips the inference-thread hand-off).
    thread_affine = False

    def __init__(
        self,
        model_dir: Path,
        *,
        num_threads: int,
        model_file: str = "model.onnx",
        precision: str = "fp32",
        allow_spinning: bool = True,
    ) -> None:
        path = Path(model_dir) / model_file
        self.session = ort.InferenceSession(
            str(path),
            session_options(num_threads, allow_spinning=allow_spinning),
            providers=["CPUExecutionProvider"],
        )
        graph_inputs = [i.name for i in self.session.get_inputs()]
        unknown = [name for name in graph_inputs if name not in KNOWN_INPUTS]
        if unknown:
            raise ValueError(f"{model_file} takes inputs {unknown} the service does not provide")
        outputs = {o.name for o in self.session.get_outputs()}
        if not set(OUTPUTS) <= outputs:
            raise ValueError(f"{model_file} has outputs {sorted(outputs)}; expected {list(OUTPUTS)}")
        self.input_names = tuple(name for name in KNOWN_INPUTS if name in graph_inputs)
        self.num_threads = num_threads
        self.precision = precision
        log.info(
            "onnx model loaded",
            extra={
                "model_file": model_file,
                "precision": precision,
                "intra_op_threads": num_threads,
                "allow_spinning": allow_spinning,
                "inputs": list(self.input_names),
                "onnxruntime": ort.__version__,
            },
        )

    def __call__(self, inputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        feeds = {name: inputs[name] for name in self.input_names if name in inputs}
        if len(feeds) < len(self.input_names):  # e.g. token_type_ids the tokenizer does not send
            zeros = np.zeros_like(inputs["input_ids"])
            feeds = {name: feeds.get(name, zeros) for name in self.input_names}
        start, end = self.session.run(OUTPUTS, feeds)
        return start, end
