"""Same answers as the transformers 4.x question-answering pipeline (golden file).

tests/service/qa/golden_qa_4x.json holds what the real 4.57 pipeline answered on tiny
DistilBERT / BERT / RoBERTa checkpoints (made by tests/service/qa/make_golden.py in a throwaway
4.x venv). Here service/ (transformers 5.x, no pipeline) must give the same spans, and the
same scores up to float noise, including top_k lists, max_answer_len, the impossible answer
and the score merging of equal answers across overlapping windows. Checked for both runtimes:
the torch backend, and the ONNX fp32 export of the same checkpoints (service.bake.bootstrap).
"""

from __future__ import annotations

import json

import pytest
from golden_compare import GOLDEN, compare_file

GOLDEN_DATA = json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_golden_file_covers_the_required_cases():
    for entry in GOLDEN_DATA["models"]:
        ids = {case["id"] for case in entry["cases"]}
        assert len(ids) >= 20
        assert {"accents-fr", "cjk-zh", "emoji-known", "multi-window-ascii"} <= ids
    assert {entry["arch"] for entry in GOLDEN_DATA["models"]} == {"distilbert", "bert", "roberta"}
    assert GOLDEN_DATA["made_with"]["transformers"].startswith("4.")


@pytest.fixture(scope="module")
def golden_models(tmp_path_factory):
    return tmp_path_factory.mktemp("golden-models")


@pytest.fixture(
    scope="module",
    params=[
        "torch",
        pytest.param("onnx", marks=pytest.mark.slow),
        pytest.param("openvino", marks=pytest.mark.slow),
    ],
)  # onnx, openvino: exports
def agreements(request, golden_models):
    return {r.arch: r for r in compare_file(GOLDEN, golden_models, runtime=request.param)}


@pytest.mark.parametrize("arch", ["distilbert", "bert", "roberta"])
def test_service_matches_the_4x_pipeline(agreements, arch):
    result = agreements[arch]
    assert result.span_mismatches == []
    assert result.score_mismatches == []
    assert result.answers >= result.cases >= 20
