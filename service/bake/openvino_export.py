"""Build-time OpenVINO conversion: a saved QA checkpoint -> model.xml/.bin (IR) the service serves.

    export_openvino(checkpoint_dir, out_dir, precision="fp32"|"bf16"|"auto"|"int8")

Runs in the image's builder stage (torch, transformers, onnx, onnxruntime, openvino, nncf)
via `python -m service.bake --runtime openvino`; the runtime image needs only openvino.

1. The unfused ONNX export of service/bake/export.py (already checked against torch): OpenVINO
   runs its own transformer fusions at compile time, and reads plain ONNX ops best.
2. openvino.convert_model -> IR, weights kept in fp32 (compress_to_fp16=False): fp32 and bf16
   share the same IR; bf16 is an execution choice made when the model is compiled on the
   serving CPU (service/qa/backends/openvino_backend.py), so the image carries no CPU guess.
3. int8: NNCF static post-training quantisation (weights and activations, MatMuls of the
   attention included) on windows of the repository's calibration corpus (service/bake/calibration.py),
   cut exactly as serving cuts them. The corpus checksum goes in the build info (manifest).
4. Parity: the compiled IR, strict f32, against ONNX Runtime on the same padded batch; int8's
   distance is recorded, not enforced (its agreement is a test and a benchmark figure).
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np

from service.bake import calibration
from service.bake.export import (
    MODEL_FILE as ONNX_FILE,
)
from service.bake.export import (
    PARITY_ATOL,
    ExportError,
    _check_batch,
    _max_diff,
    _ort_logits,
    copy_non_weights,
    export_onnx,
)
from service.bake.manifest import SUPPORTED
from service.qa.tokenization import QATokenizer

MODEL_FILE = "model.xml"
WEIGHTS_FILE = "model.bin"

log = logging.getLogger(__name__)


def _ov_logits(model, batch: dict) -> tuple[np.ndarray, np.ndarray]:
    import openvino as ov  # noqa: PLC0415

    compiled = ov.Core().compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    names = {port.get_any_name() for port in compiled.inputs}
    result = compiled({k: v for k, v in batch.items() if k in names})
    return result["start_logits"], result["end_logits"]


def _quantize(model, tokenizer: QATokenizer, input_names: tuple[str, ...]):
    import nncf  # noqa: PLC0415

    samples = calibration.windows(tokenizer, input_names)
    quantized = nncf.quantize(
        model,
        nncf.Dataset(samples),
        # Transformer preset: symmetric weights, asymmetric activations where they need it,
        # SmoothQuant on the MatMuls; keeps LayerNorm/Softmax outside the int8 region.
        model_type=nncf.ModelType.TRANSFORMER,
        subset_size=len(samples),
    )
    info = {
        "method": "nncf static (weights + activations)",
        "nncf": nncf.__version__,
        "calibration_corpus": calibration.CORPUS.name,
        "calibration_sha256": calibration.corpus_sha256(),
        "calibration_windows": len(samples),
    }
    return quantized, info


def export_openvino(checkpoint: Path, out: Path, *, precision: str = "fp32") -> dict:
    """Write out/model.xml + model.bin (+ tokenizer/config files); returns build info."""
    import openvino as ov  # noqa: PLC0415
    from openvino.tools.ovc import convert_model  # noqa: PLC0415 - not `ov.`: see below

    if precision not in SUPPORTED["openvino"]:
        raise ExportError(f"precision {precision!r} is not one of {', '.join(SUPPORTED['openvino'])}")
    checkpoint, out = Path(checkpoint), Path(out)
    copy_non_weights(checkpoint, out)
    staging = out / ".export-onnx"
    try:
        build = export_onnx(checkpoint, staging, optimize=False)
        input_names = tuple(build["input_names"])
        tokenizer = QATokenizer(checkpoint)
        # The converter itself, not openvino's re-export of it: a process that imported the
        # serving backend first has no `ov.convert_model` (service/qa/backends/openvino_runtime.py).
        model = convert_model(str(staging / ONNX_FILE))
        check = _check_batch(tokenizer, input_names, seed=1, width=60)
        reference = _ort_logits(staging / ONNX_FILE, check)
        diff = _max_diff(_ov_logits(model, check), reference, check["attention_mask"])
        if diff > PARITY_ATOL:
            raise ExportError(
                f"OpenVINO IR differs from the ONNX export by {diff:.3g} in the logits "
                f"(tolerance {PARITY_ATOL}): this architecture does not convert cleanly"
            )
        build["converter"] = f"openvino.convert_model from ONNX (openvino {ov.get_version()})"
        build["fp32_max_abs_logit_diff_vs_onnx"] = float(f"{diff:.3g}")
        if precision == "int8":
            model, build["quantization"] = _quantize(model, tokenizer, input_names)
            int8_diff = _max_diff(_ov_logits(model, check), reference, check["attention_mask"])
            build["int8_max_abs_logit_diff_vs_onnx"] = float(f"{int8_diff:.3g}")
        ov.save_model(model, str(out / MODEL_FILE), compress_to_fp16=False)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    build.pop("fusions", None)
    return build
