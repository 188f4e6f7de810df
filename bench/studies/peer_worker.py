"""Runs inside a peer's own venv (bench/studies/peers.py made it): Optimum + ONNX Runtime, or
optimum-intel + OpenVINO. Never imported by the project; only the standard library, NumPy,
tokenizers, transformers and the peer are available, plus service.qa.spans / service.bake.calibration
from this repository (NumPy + tokenizers only), put on sys.path below.

    python peer_worker.py prepare --kind ort|ov --checkpoint DIR --out DIR
    python peer_worker.py serve   --kind ort|ov --model DIR --threads N [--ov-config JSON]
    python peer_worker.py once    ... (same as serve: load, answer one request, print, exit)

What one peer call is (timed in-process, in `answer`): the checkpoint's fast tokenizer through
transformers (`tokenizer(question, context, truncation="only_second", max_length=384,
stride=128, return_overflowing_tokens=True, return_offsets_mapping=True, padding=True)`), the
peer's model on all windows as one padded batch, and the project's span decoding
(service.qa.spans.best_answers) on the logits, so both sides end at the same answer. transformers
5.x has no question-answering pipeline, so that is what a peer user writes instead.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
T0 = time.perf_counter()
# The protocol (one JSON object per line) gets its own copy of fd 1; fd 1 itself then points at
# stderr, so whatever the libraries print, from Python or from C++, cannot interleave with it.
PROTOCOL = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)
sys.stdout = sys.stderr


def reply(obj: dict) -> None:
    PROTOCOL.write(json.dumps(obj) + "\n")
    PROTOCOL.flush()


MAX_LENGTH, STRIDE = 384, 128  # = service/qa/tokenization.py's defaults for this model


def copy_tokenizer(checkpoint: Path, out: Path) -> None:
    """The checkpoint's own tokenizer files, byte for byte (re-saving could rewrite the vocab)."""
    out.mkdir(parents=True, exist_ok=True)
    for path in checkpoint.iterdir():
        if path.name.startswith(("tokenizer", "special_tokens", "vocab")) and path.is_file():
            (out / path.name).write_bytes(path.read_bytes())


def prepare(kind: str, checkpoint: Path, out: Path) -> dict:
    """Export the checkpoint as the peer's documentation does; int8 as the peer offers it."""
    info: dict = {}
    if kind == "ort":
        from optimum.onnxruntime import ORTModelForQuestionAnswering, ORTQuantizer  # noqa: PLC0415
        from optimum.onnxruntime.configuration import AutoQuantizationConfig  # noqa: PLC0415

        fp32 = out / "ort-fp32"
        model = ORTModelForQuestionAnswering.from_pretrained(str(checkpoint), export=True)
        model.save_pretrained(fp32)
        copy_tokenizer(checkpoint, fp32)
        quantizer = ORTQuantizer.from_pretrained(fp32)
        config = AutoQuantizationConfig.avx512_vnni(is_static=False, per_channel=True)
        quantizer.quantize(save_dir=out / "ort-int8", quantization_config=config)
        copy_tokenizer(checkpoint, out / "ort-int8")
        info["int8"] = "ORTQuantizer dynamic, AutoQuantizationConfig.avx512_vnni(per_channel=True)"
    else:
        import nncf  # noqa: PLC0415
        import openvino as ov  # noqa: PLC0415
        from optimum.intel import OVModelForQuestionAnswering  # noqa: PLC0415

        from service.bake import calibration  # noqa: PLC0415 - NumPy + tokenizers
        from service.qa.tokenization import QATokenizer  # noqa: PLC0415

        fp32 = out / "ov-fp32"
        model = OVModelForQuestionAnswering.from_pretrained(str(checkpoint), export=True, compile=False)
        model.save_pretrained(fp32)
        copy_tokenizer(checkpoint, fp32)
        # NNCF static w8a8 on the same calibration windows the project uses.
        names = tuple(p.get_any_name() for p in model.model.inputs)
        samples = calibration.windows(QATokenizer(fp32), names)
        quantized = nncf.quantize(
            model.model,
            nncf.Dataset(samples),
            model_type=nncf.ModelType.TRANSFORMER,
            subset_size=len(samples),
        )
        int8 = out / "ov-int8"
        int8.mkdir(parents=True, exist_ok=True)
        for path in fp32.iterdir():
            if path.suffix not in (".xml", ".bin"):
                (int8 / path.name).write_bytes(path.read_bytes())
        ov.save_model(quantized, str(int8 / "openvino_model.xml"))
        info["int8"] = f"nncf.quantize static (TRANSFORMER preset), {len(samples)} calibration windows"
    return info


class Peer:
    def __init__(self, kind: str, model_dir: Path, threads: int, ov_config: dict | None) -> None:
        from transformers import AutoTokenizer  # noqa: PLC0415

        self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        if kind == "ort":
            import onnxruntime as ort  # noqa: PLC0415
            from optimum.onnxruntime import ORTModelForQuestionAnswering  # noqa: PLC0415

            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            name = next(p.name for p in model_dir.glob("*.onnx"))
            self.model = ORTModelForQuestionAnswering.from_pretrained(
                str(model_dir), file_name=name, session_options=options, provider="CPUExecutionProvider"
            )
        else:
            from optimum.intel import OVModelForQuestionAnswering  # noqa: PLC0415

            config = {"INFERENCE_NUM_THREADS": str(threads), **(ov_config or {})}
            self.model = OVModelForQuestionAnswering.from_pretrained(str(model_dir), ov_config=config)

    def answer(self, question: str, context: str) -> tuple[dict, float]:
        import numpy as np  # noqa: PLC0415

        from service.qa.spans import DecodeOptions, best_answers  # noqa: PLC0415

        t0 = time.perf_counter()
        enc = self.tokenizer(
            question,
            context,
            truncation="only_second",
            max_length=MAX_LENGTH,
            stride=STRIDE,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            padding=True,
            return_tensors="pt",
        )
        inputs = {k: enc[k] for k in ("input_ids", "attention_mask")}
        output = self.model(**inputs)
        starts, ends = output.start_logits.numpy(), output.end_logits.numpy()
        mask = enc["attention_mask"].numpy()
        rows = []
        for row in range(mask.shape[0]):
            length = int(mask[row].sum())
            seq = enc.sequence_ids(row)[:length]
            desired = np.array([1 if s == 1 else 0 for s in seq], dtype=np.int64)
            desired[0] = 1  # the CLS stays in, as the project and 4.x keep it
            rows.append((starts[row, :length], ends[row, :length], desired))
        best = best_answers(
            context,
            encodings=enc.encodings,
            start_logits=[r[0] for r in rows],
            end_logits=[r[1] for r in rows],
            desired=[r[2] for r in rows],
            question_first=True,
            options=DecodeOptions(),
        )[0]
        return best.as_dict(), (time.perf_counter() - t0) * 1000


def vmhwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=("prepare", "serve", "once"))
    parser.add_argument("--kind", choices=("ort", "ov"), required=True)
    parser.add_argument("--checkpoint", type=Path)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--ov-config", default="{}")
    args = parser.parse_args()
    if args.mode == "prepare":
        reply(prepare(args.kind, args.checkpoint, args.out))
        return 0
    peer = Peer(args.kind, args.model, args.threads, json.loads(args.ov_config))
    request = json.loads(sys.stdin.readline())
    answer, ms = peer.answer(request["question"], request["context"])
    reply({"ready_s": time.perf_counter() - T0, "answer": answer, "ms": ms})
    if args.mode == "once":
        reply({"vmhwm_mb": vmhwm_mb()})
        return 0
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("op") == "quit":
            break
        answer, ms = peer.answer(request["question"], request["context"])
        reply({"answer": answer, "ms": ms})
    reply({"vmhwm_mb": vmhwm_mb()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
