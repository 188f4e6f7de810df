"""Build-time ONNX export: a saved QA checkpoint -> model.onnx (+ fusions, + int8) the service serves.

    export_onnx(checkpoint_dir, out_dir, precision="fp32"|"int8")

Runs in the image's builder stage (torch, transformers, onnx, onnxruntime's tools) via
`python -m service.bake --runtime onnx`; the runtime image needs only onnxruntime.

1. Export with torch.onnx's TorchScript exporter, eager attention, dynamic batch and sequence
   axes, opset 17. (The dynamo exporter also works and matches torch, but ORT's transformer
   fusions do not recognise its attention subgraph, so its graph runs slower.)
   The trace uses a padded batch so the attention-mask path is part of the graph.
2. Optionally fuse with onnxruntime.transformers.optimizer (Attention, SkipLayerNormalization,
   BiasGelu...), at opt_level 0: only the portable Python fusions, so the saved graph does not
   depend on the build machine's CPU. ORT's own optimisations still run at session creation.
3. Check the fp32 graph against the torch model on a padded batch (max |logit difference|);
   if the fused graph misses the tolerance the unfused one is used, if that misses too: error.
4. int8: onnxruntime.quantization.quantize_dynamic, int8 weights, per channel (ORT quantises
   MatMul weights per output channel, and the fused Attention's QKV weights), activations
   quantised on the fly. Published accuracy cost for DistilBERT-SQuAD: see service/README.md.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import json
import logging
import shutil
import warnings
from pathlib import Path

import numpy as np

from service.bake.manifest import KNOWN_INPUTS, LEGACY_TORCH_WEIGHTS, MANIFEST_FILE, SUPPORTED
from service.qa.tokenization import QATokenizer, uses_token_type_ids

OUTPUTS = ("start_logits", "end_logits")
OPSET = 17
PARITY_ATOL = 2e-3  # fp32 graph vs torch, on logits of magnitude ~10
MODEL_FILE = "model.onnx"
# config.model_type -> (ORT optimizer model type, config key of heads, config key of width)
FUSABLE = {
    "distilbert": ("bert", "n_heads", "dim"),
    "bert": ("bert", "num_attention_heads", "hidden_size"),
    "roberta": ("bert", "num_attention_heads", "hidden_size"),
    "xlm-roberta": ("bert", "num_attention_heads", "hidden_size"),
    "electra": ("bert", "num_attention_heads", "hidden_size"),
}

log = logging.getLogger(__name__)


class ExportError(RuntimeError):
    """The export cannot produce a graph that matches the checkpoint; one line."""


def _check_batch(tokenizer: QATokenizer, input_names: tuple[str, ...], seed: int, width: int) -> dict:
    """A padded batch of 3 real-tokenized windows of different lengths (row 0 longest)."""
    rng = np.random.default_rng(seed)
    words = ["the", "king", "lived", "near", "river", "in", "old", "city", "and", "walked", "bridge"]
    rows = []
    for length in (width, width * 2 // 3, width // 3):
        context = " ".join(rng.choice(words, size=length))
        windows = tokenizer.windows("Who lived near the river?", context, input_names)
        rows.append({name: array[0] for name, array in windows.arrays.items()})
    size = max(len(r["input_ids"]) for r in rows)
    batch = {}
    for name in input_names:
        fill = tokenizer.pad_token_id if name == "input_ids" else 0
        array = np.full((len(rows), size), fill, dtype=np.int64)
        for i, row in enumerate(rows):
            array[i, : len(row[name])] = row[name]
        batch[name] = array
    return batch


def _ort_logits(path: Path, batch: dict) -> tuple[np.ndarray, np.ndarray]:
    import onnxruntime as ort  # noqa: PLC0415

    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    names = {i.name for i in session.get_inputs()}
    start, end = session.run(list(OUTPUTS), {k: v for k, v in batch.items() if k in names})
    return start, end


def _max_diff(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray], mask: np.ndarray) -> float:
    keep = mask.astype(bool)
    return float(max(np.abs(x[keep] - y[keep]).max() for x, y in zip(a, b, strict=True)))


def _load_torch_model(checkpoint: Path):
    import transformers  # noqa: PLC0415
    from transformers import AutoModelForQuestionAnswering  # noqa: PLC0415

    transformers.utils.logging.disable_progress_bar()
    try:
        # Eager attention: plain MatMul/Softmax ops that ORT's Attention fusion recognises
        # (SDPA's export is not fused, and is traced with mask-dependent branches).
        model = AutoModelForQuestionAnswering.from_pretrained(str(checkpoint), attn_implementation="eager")
    except (ValueError, TypeError):
        model = AutoModelForQuestionAnswering.from_pretrained(str(checkpoint))
    return model.eval()


def _export(model, batch: dict, input_names: tuple[str, ...], path: Path, opset: int) -> None:
    import torch  # noqa: PLC0415

    class QAOutputs(torch.nn.Module):
        """(start_logits, end_logits) as a tuple, inputs by position in `input_names` order."""

        def __init__(self, inner) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *arrays):
            output = self.inner(**dict(zip(input_names, arrays, strict=True)))
            return output.start_logits, output.end_logits

    wrapper = QAOutputs(model).eval()
    args = tuple(torch.from_numpy(batch[name]) for name in input_names)
    axes = {name: {0: "batch", 1: "sequence"} for name in (*input_names, *OUTPUTS)}
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")  # TracerWarnings about Python control flow on shapes
        torch.onnx.export(
            wrapper,
            args,
            str(path),
            input_names=list(input_names),
            output_names=list(OUTPUTS),
            dynamic_axes=axes,
            opset_version=opset,
            do_constant_folding=True,
            dynamo=False,
        )
    model.eval()  # export toggles training mode on the wrapper tree; keep the model in eval


def _optimize(src: Path, dst: Path, config: dict) -> dict | None:
    """ORT's transformer fusions (portable Python passes only); None where the arch is unknown."""
    spec = FUSABLE.get(str(config.get("model_type")))
    if spec is None:
        return None
    from onnxruntime.transformers.optimizer import optimize_model  # noqa: PLC0415

    model_type, heads_key, width_key = spec
    with contextlib.redirect_stdout(io.StringIO()):
        optimized = optimize_model(
            str(src),
            model_type=model_type,
            num_heads=int(config.get(heads_key) or 0),
            hidden_size=int(config.get(width_key) or 0),
            opt_level=0,
            use_gpu=False,
        )
        optimized.save_model_to_file(str(dst))
    counts: dict[str, int] = {}
    for node in optimized.model.graph.node:
        if node.op_type in (
            "Attention",
            "SkipLayerNormalization",
            "BiasGelu",
            "FastGelu",
            "Gelu",
            "EmbedLayerNormalization",
            "LayerNormalization",
        ):
            counts[node.op_type] = counts.get(node.op_type, 0) + 1
    return counts


def _quantize(src: Path, dst: Path) -> dict:
    import onnx  # noqa: PLC0415
    from onnxruntime.quantization import QuantType, quantize_dynamic  # noqa: PLC0415

    quant_log = logging.getLogger()  # quantize_dynamic warns about pre-processing via root
    level = quant_log.level
    quant_log.setLevel(logging.ERROR)
    try:
        quantize_dynamic(
            str(src),
            str(dst),
            weight_type=QuantType.QInt8,
            per_channel=True,
            # Fused contrib ops (Attention...) have no ONNX shape inference: their outputs are fp32.
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    finally:
        quant_log.setLevel(level)
    return {"method": "dynamic", "weights": "int8 (symmetric)", "per_channel": True, "activations": "uint8"}


def copy_non_weights(checkpoint: Path, out: Path) -> None:
    """Tokenizer, config and metadata files: everything but weights (and any old manifest)."""
    out.mkdir(parents=True, exist_ok=True)
    weights = (".safetensors", ".bin", ".onnx", ".onnx.data")
    skip = (*LEGACY_TORCH_WEIGHTS, MANIFEST_FILE, MODEL_FILE)
    for path in checkpoint.iterdir():
        if path.is_file() and path.name not in skip and not path.name.endswith(weights):
            shutil.copy2(path, out / path.name)


def export_onnx(  # noqa: PLR0915 - one linear recipe, easier read in one place
    checkpoint: Path,
    out: Path,
    *,
    precision: str = "fp32",
    optimize: bool = True,
    opset: int = OPSET,
) -> dict:
    """Write out/model.onnx (+ tokenizer/config files) from a saved checkpoint; returns build info."""
    import onnxruntime  # noqa: PLC0415
    import torch  # noqa: PLC0415
    import transformers  # noqa: PLC0415

    if precision not in SUPPORTED["onnx"]:
        raise ExportError(f"precision {precision!r} is not one of {', '.join(SUPPORTED['onnx'])}")
    checkpoint, out = Path(checkpoint), Path(out)
    copy_non_weights(checkpoint, out)
    config = json.loads((checkpoint / "config.json").read_text(encoding="utf-8"))
    tokenizer = QATokenizer(checkpoint)
    model = _load_torch_model(checkpoint)
    accepted = tuple(n for n in KNOWN_INPUTS if n in inspect.signature(model.forward).parameters)
    input_names = tuple(
        n for n in accepted if n != "token_type_ids" or uses_token_type_ids(checkpoint, tokenizer, accepted)
    )
    trace_batch = _check_batch(tokenizer, input_names, seed=0, width=12)
    check_batch = _check_batch(tokenizer, input_names, seed=1, width=60)
    with torch.inference_mode():
        reference = model(**{k: torch.from_numpy(v) for k, v in check_batch.items()})
    expected = (reference.start_logits.numpy(), reference.end_logits.numpy())
    mask = check_batch["attention_mask"]

    build: dict = {
        "exporter": f"torch.onnx TorchScript exporter (torch {torch.__version__})",
        "opset": opset,
        "transformers": transformers.__version__,
        "onnxruntime": onnxruntime.__version__,
        "attn_implementation": getattr(model.config, "_attn_implementation", None),
    }
    staging = out / ".export"
    staging.mkdir(exist_ok=True)
    try:
        plain = staging / "plain.onnx"
        _export(model, trace_batch, input_names, plain, opset)
        plain_diff = _max_diff(_ort_logits(plain, check_batch), expected, mask)
        fp32, diff = plain, plain_diff
        build["fusions"] = None
        if optimize:
            fused = staging / "fused.onnx"
            counts = _optimize(plain, fused, config)
            if counts is not None:
                fused_diff = _max_diff(_ort_logits(fused, check_batch), expected, mask)
                if fused_diff <= PARITY_ATOL:
                    fp32, diff, build["fusions"] = fused, fused_diff, counts
                else:
                    log.warning("fused graph off by %.2g; serving the unfused export", fused_diff)
        if diff > PARITY_ATOL:
            raise ExportError(
                f"exported graph differs from the torch model by {diff:.3g} in the logits "
                f"(tolerance {PARITY_ATOL}): this architecture does not export cleanly"
            )
        build["fp32_max_abs_logit_diff_vs_torch"] = float(f"{diff:.3g}")
        target = out / MODEL_FILE
        if precision == "int8":
            build["quantization"] = _quantize(fp32, target)
            int8_diff = _max_diff(_ort_logits(target, check_batch), expected, mask)
            build["int8_max_abs_logit_diff_vs_torch"] = float(f"{int8_diff:.3g}")
        else:
            shutil.move(str(fp32), target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    build["input_names"] = list(input_names)
    build["max_seq_len"] = tokenizer.max_seq_len
    return build
