"""Batched answers equal serial answers on the golden cases, at random arrival orders and bounds.

The golden file's tiny DistilBERT / BERT / RoBERTa checkpoints; requests are announced together,
then tokenized and submitted from their own threads in a shuffled order, so they share forward
passes (service/batching.py) of a random `max_windows`; each decodes its own rows.
"""

from __future__ import annotations

import json
import math
import random

import pytest
from golden_compare import GOLDEN, SCORE_ATOL, SCORE_RTOL
from service_helpers import make_batcher, run_together

from service.qa.model import QAModel
from service.qa.spans import DecodeOptions

GOLDEN_DATA = json.loads(GOLDEN.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def golden_models(tmp_path_factory):
    from bench.fake_model import make_fake_qa_model

    models = {}
    for entry in GOLDEN_DATA["models"]:
        out = tmp_path_factory.mktemp(f"golden-{entry['arch']}")
        make_fake_qa_model(out, preset=entry["preset"], arch=entry["arch"], seed=entry["seed"])
        models[entry["arch"]] = (QAModel.load(out, num_threads=1, max_question_tokens=200), entry["cases"])
    return models


def _spans_and_scores(prediction):
    return [(a.answer, a.start, a.end) for a in prediction.answers], [a.score for a in prediction.answers]


@pytest.mark.parametrize("arch", ["distilbert", "bert", "roberta"])
def test_batched_answers_equal_serial_answers_on_the_golden_cases(golden_models, arch):
    model, cases = golden_models[arch]
    serial = [model.predict(c["question"], c["context"], DecodeOptions(**c["options"])) for c in cases]
    rng = random.Random(f"batching-{arch}")  # noqa: S311 - reproducible test orders
    sizes = set()
    for _ in range(3):  # random arrival orders, random batch bounds
        order = rng.sample(range(len(cases)), len(cases))
        batcher, pool = make_batcher(
            model.forward, max_wait_s=2.0, max_windows=rng.randint(2, 12), padding=model.tokenizer.padding
        )
        prepared = [model.prepare(cases[i]["question"], cases[i]["context"]) for i in order]
        results = run_together(batcher, [p.windows.arrays for p in prepared])
        pool.shutdown()
        for i, p, (start, end, info) in zip(order, prepared, results, strict=True):
            sizes.add(info.size)
            got = model.decode(p, start, end, DecodeOptions(**cases[i]["options"]))
            spans, scores = _spans_and_scores(got)
            want_spans, want_scores = _spans_and_scores(serial[i])
            assert spans == want_spans, cases[i]["id"]
            for mine, theirs in zip(scores, want_scores, strict=True):
                assert math.isclose(mine, theirs, rel_tol=SCORE_RTOL, abs_tol=SCORE_ATOL), cases[i]["id"]
    assert max(sizes) > 2  # requests really shared forward passes
