"""The GPU's code path (fp16 weights, logits back as float32, batched) on a CPU stand-in.

No GPU here: `TorchBackend(placement=(cpu, float16))` runs what CUDA would run - weights cast
to fp16, inference mode, `.float()` before NumPy - on fp16 CPU kernels. The device move itself
(`.to("cuda")`) is the one step only a GPU run covers (`python -m bench gpu`, docs/gpu.md).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from golden_compare import GOLDEN

torch = pytest.importorskip("torch")

from bench.fake_model import make_fake_qa_model  # noqa: E402
from service.qa.backends.torch import TorchBackend  # noqa: E402
from service.qa.model import QAModel  # noqa: E402
from service.qa.spans import DecodeOptions  # noqa: E402
from service.qa.tokenization import (  # noqa: E402
    QATokenizer,
    stack_windows,
    uses_token_type_ids,
)

DISTILBERT = next(
    e for e in json.loads(GOLDEN.read_text(encoding="utf-8"))["models"] if e["arch"] == "distilbert"
)


@pytest.fixture(scope="module")
def golden_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("fp16-distilbert")
    return make_fake_qa_model(out, preset=DISTILBERT["preset"], arch="distilbert", seed=DISTILBERT["seed"])


def _model(model_dir, dtype) -> QAModel:
    backend = TorchBackend(model_dir, num_threads=1, placement=(torch.device("cpu"), dtype))
    tokenizer = QATokenizer(model_dir)
    return QAModel(
        tokenizer,
        backend,
        use_token_type_ids=uses_token_type_ids(model_dir, tokenizer, backend.input_names),
        max_question_tokens=200,
        max_batch_windows=32,
    )


def test_fp16_weights_give_float32_logits_and_the_golden_spans(golden_dir):
    half, full = _model(golden_dir, torch.float16), _model(golden_dir, torch.float32)
    assert {p.dtype for p in half.backend.model.parameters()} == {torch.float16}
    assert half.backend.precision == "fp16"
    agree = 0
    for case in DISTILBERT["cases"]:
        options = DecodeOptions(**case["options"])
        spans = [
            [
                (a.answer, a.start, a.end)
                for a in m.predict(case["question"], case["context"], options).answers
            ]
            for m in (half, full)
        ]
        agree += spans[0] == spans[1]
    assert agree / len(DISTILBERT["cases"]) >= 0.95  # the GPU run's target, on CPU fp16 kernels
    prepared = half.prepare("What is it?", "Roses are red.")
    start, end = half.forward(prepared.windows.arrays)
    assert start.dtype == end.dtype == np.float32


def test_fp16_batched_rows_match_fp16_rows_run_alone(golden_dir):
    half = _model(golden_dir, torch.float16)
    prepared = [half.prepare(c["question"], c["context"]) for c in DISTILBERT["cases"][:6]]
    stacked = stack_windows([p.windows.arrays for p in prepared], half.tokenizer.padding)
    batched_start, _ = half.forward(stacked)
    row = 0
    for p in prepared:
        alone, _ = half.forward(p.windows.arrays)
        rows, width = alone.shape
        desired = p.windows.arrays["attention_mask"].astype(bool)
        # fp16 accumulates in a different order in a bigger batch: close, not bit-equal.
        np.testing.assert_allclose(
            batched_start[row : row + rows, :width][desired], alone[desired], atol=0.05
        )
        row += rows
