"""Tokenization windows, span decoding and char offsets (service/qa/tokenization.py, spans.py, model.py)."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from service_helpers import KeywordBackend

from service.qa.model import InputTooLongError, NoContextTokensError, QAModel
from service.qa.spans import DecodeOptions, best_answers, top_spans, window_probabilities
from service.qa.tokenization import QATokenizer

FILLER = "The old king lived in a large house near the forest with his dog. " * 40
TEXTS = {
    "ascii": ("What is sweet?", "Roses are red, violets are blue, sugar is sweet, and so are you."),
    "accents": ("Où est le café?", "Le café naïve est à Paris; l'élève a été über straße, señor."),
    "cjk": ("法国的首都是什么？", "巴黎是法国的首都。北京是中国的首都，东京是日本的首都。"),
    "emoji": ("What is red?", "The rose 🌹 is red 😀, the family 👨‍👩‍👧 came from 🇫🇷 with a 🦄."),
    "combining": ("Where?", "The cafe\u0301 near the re\u0301sume\u0301 shop."),
    "mixed-space": ("What?", "Roses  are\tred,\n\nviolets   are\r\nblue."),
}


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir):
    return QATokenizer(tiny_model_dir)


def test_windows_follow_the_4x_defaults(tokenizer):
    assert (tokenizer.max_seq_len, tokenizer.doc_stride) == (384, 128)
    assert tokenizer.question_first
    windows = tokenizer.windows("Who lived there?", FILLER, ("input_ids", "attention_mask"))
    assert windows.count >= 3
    assert set(windows.arrays) == {"input_ids", "attention_mask"}
    assert windows.arrays["input_ids"].shape == (windows.count, 384)
    assert int(windows.lengths.max()) == 384
    # Consecutive windows overlap by the stride: the last 128 context tokens of one window
    # open the next.
    first, second = windows.encodings[0], windows.encodings[1]
    ctx = [w for w, s in zip(first.word_ids, first.sequence_ids, strict=True) if s == 1]
    ctx2 = [w for w, s in zip(second.word_ids, second.sequence_ids, strict=True) if s == 1]
    tokens1 = [t for t, s in zip(first.ids, first.sequence_ids, strict=True) if s == 1]
    tokens2 = [t for t, s in zip(second.ids, second.sequence_ids, strict=True) if s == 1]
    assert tokens1[-128:] == tokens2[:128]
    assert ctx[-128:] == ctx2[:128]


def test_p_mask_leaves_only_context_and_cls(tokenizer):
    windows = tokenizer.windows("Who lived there?", "The king lived here.", ("input_ids",))
    enc = windows.encodings[0]
    allowed = [i for i, m in enumerate(windows.p_mask[0][: len(enc.ids)]) if m == 0]
    context_positions = [i for i, s in enumerate(enc.sequence_ids) if s == 1]
    assert allowed == [0, *context_positions]
    assert enc.ids[0] == tokenizer.cls_token_id


@pytest.mark.parametrize(
    ("arch", "expects_token_types"), [("distilbert", False), ("bert", True), ("roberta", False)]
)
def test_token_type_ids_only_where_the_model_uses_them(tiny_model_factory, arch, expects_token_types):
    model = QAModel.load(tiny_model_factory(arch), num_threads=1)
    assert ("token_type_ids" in model.input_names) is expects_token_types
    windows = model.tokenizer.windows("Who?", "The king.", model.input_names)
    if expects_token_types:
        types = windows.arrays["token_type_ids"][0]
        seq = windows.encodings[0].sequence_ids
        assert [int(t) for t, s in zip(types, seq, strict=True) if s == 1] == [1] * seq.count(1)


def test_masked_softmax_keeps_cls_in_the_denominator():
    start = np.array([2.0, 5.0, 1.0, 0.0], dtype=np.float32)  # CLS, question, ctx, ctx
    end = np.array([1.0, 5.0, 0.0, 2.0], dtype=np.float32)
    desired = np.array([1, 0, 1, 1])
    p_start, p_end, null = window_probabilities(start, end, desired)
    z_start = math.exp(2) + math.exp(1) + math.exp(0)
    z_end = math.exp(1) + math.exp(0) + math.exp(2)
    assert p_start[0] == p_end[0] == 0.0  # CLS zeroed after the softmax
    assert p_start[1] == pytest.approx(0.0, abs=1e-30)  # question token masked
    assert p_start[2] == pytest.approx(math.exp(1) / z_start, rel=1e-6)
    assert p_end[3] == pytest.approx(math.exp(2) / z_end, rel=1e-6)
    assert null == pytest.approx(math.exp(2) / z_start * math.exp(1) / z_end, rel=1e-6)


def test_spans_respect_order_and_max_answer_len():
    desired = np.ones(8, dtype=np.int64)
    p_start, p_end = np.zeros(8, dtype=np.float32), np.zeros(8, dtype=np.float32)
    p_start[6], p_end[2] = 0.9, 0.9  # the best start lies after the best end: no span
    p_start[1], p_end[7] = 0.05, 0.05
    assert top_spans(p_start, p_end, desired, top_k=1, max_answer_len=15)[0][:2] == (1, 2)

    p_start, p_end = np.zeros(8, dtype=np.float32), np.zeros(8, dtype=np.float32)
    p_start[1], p_end[5], p_end[2] = 0.9, 0.9, 0.01
    assert top_spans(p_start, p_end, desired, top_k=1, max_answer_len=15)[0][:2] == (1, 5)
    # 1..5 is five tokens: over a max_answer_len of 3, the next best span wins.
    assert top_spans(p_start, p_end, desired, top_k=1, max_answer_len=3)[0][:2] == (1, 2)


def test_spans_touching_masked_tokens_are_dropped():
    p_start = np.array([0, 0.5, 0.3, 0.2], dtype=np.float32)
    p_end = np.array([0, 0.1, 0.3, 0.6], dtype=np.float32)
    desired = np.array([1, 1, 1, 0])  # last token masked after the softmax (e.g. padding)
    spans = top_spans(p_start, p_end, desired, top_k=4, max_answer_len=15)
    assert spans
    assert all(e != 3 and s != 3 for s, e, _ in spans)
    assert [score for *_, score in spans] == sorted((score for *_, score in spans), reverse=True)


def test_equal_answers_from_overlapping_windows_add_up(tokenizer):
    context = "Paris " + FILLER + " Berlin is far."
    windows = tokenizer.windows("Where?", context, ("input_ids", "attention_mask"))
    assert windows.count >= 2
    berlin = tokenizer._counter.token_to_id("Berlin")
    starts, ends, desired = [], [], []
    for row, length in enumerate(windows.lengths):
        ids = windows.arrays["input_ids"][row, :length]
        logits = np.where(ids == berlin, 8.0, 0.0).astype(np.float32)
        starts.append(logits)
        ends.append(logits)
        desired.append(1 - windows.p_mask[row, :length])
    one = best_answers(
        context,
        encodings=windows.encodings[-1:],
        start_logits=starts[-1:],
        end_logits=ends[-1:],
        desired=desired[-1:],
        question_first=True,
        options=DecodeOptions(),
    )[0]
    # Feed the last window twice: the same text seen twice scores the sum (4.x behaviour).
    twice = best_answers(
        context,
        encodings=windows.encodings[-1:] * 2,
        start_logits=starts[-1:] * 2,
        end_logits=ends[-1:] * 2,
        desired=desired[-1:] * 2,
        question_first=True,
        options=DecodeOptions(),
    )[0]
    assert one.answer == twice.answer == "Berlin"
    assert twice.score == pytest.approx(2 * one.score)
    assert (
        (twice.start, twice.end)
        == (one.start, one.end)
        == (context.index("Berlin"), context.index("Berlin") + 6)
    )


def keyword_model(model_dir, word: str, **kwargs) -> tuple[QAModel, KeywordBackend]:
    tokenizer = QATokenizer(model_dir)
    token = tokenizer._counter.token_to_id(word)
    backend = KeywordBackend(token, token)
    return QAModel(tokenizer, backend, use_token_type_ids=False, **kwargs), backend


def test_answer_only_in_a_late_window_is_found_with_exact_offsets(tiny_model_dir):
    model, backend = keyword_model(tiny_model_dir, "Berlin", max_batch_windows=16)
    context = FILLER * 2 + "The treasure is hidden in Berlin, under the bridge."
    prediction = model.predict("Where is the treasure?", context)
    assert prediction.windows >= 5
    answer = prediction.best
    assert answer.answer == "Berlin"
    assert (answer.start, answer.end) == (context.index("Berlin"), context.index("Berlin") + len("Berlin"))
    # One padded batch for all windows of the request (up to max_batch_windows).
    assert len(backend.calls) == 1
    assert backend.calls[0]["input_ids"].shape[0] == prediction.windows


def test_windows_are_batched_in_chunks_past_the_cap(tiny_model_dir):
    model, backend = keyword_model(tiny_model_dir, "Berlin", max_batch_windows=2)
    context = FILLER * 2 + "It is in Berlin."
    prediction = model.predict("Where?", context)
    assert len(backend.calls) == math.ceil(prediction.windows / 2)
    assert prediction.best.answer == "Berlin"


@pytest.mark.parametrize("arch", ["distilbert", "bert", "roberta"])
@pytest.mark.parametrize("name", sorted(TEXTS))
def test_answer_is_exactly_the_context_slice(tiny_model_factory, arch, name):
    model = QAModel.load(tiny_model_factory(arch), num_threads=1)
    question, context = TEXTS[name]
    for options in (DecodeOptions(top_k=5), DecodeOptions(top_k=3, align_to_words=False)):
        answers = model.predict(question, context, options).answers
        assert answers
        for answer in answers:
            assert answer.answer == context[answer.start : answer.end]
            assert answer.answer.strip()
            assert 0 < answer.score <= 1


def test_batched_and_one_by_one_windows_agree(tiny_model_dir):
    batched = QAModel.load(tiny_model_dir, num_threads=1, max_batch_windows=16)
    single = QAModel.load(tiny_model_dir, num_threads=1, max_batch_windows=1)
    context = FILLER * 2
    a = batched.predict("Who lived near the forest?", context, DecodeOptions(top_k=5)).answers
    b = single.predict("Who lived near the forest?", context, DecodeOptions(top_k=5)).answers
    assert [(x.answer, x.start, x.end) for x in a] == [(x.answer, x.start, x.end) for x in b]
    assert [x.score for x in a] == pytest.approx([x.score for x in b], rel=1e-4)


def test_question_token_cap(qa_model):
    with pytest.raises(InputTooLongError, match="limit is 64 tokens"):
        qa_model.predict("red " * 65, "Roses are red.")
    assert qa_model.predict("red " * 60, "Roses are red.").best.answer


def test_a_question_cap_that_cannot_fit_a_window_is_refused(tiny_model_dir):
    with pytest.raises(ValueError, match="MAX_QUESTION_TOKENS=300 is too large"):
        QAModel.load(tiny_model_dir, num_threads=1, max_question_tokens=300)


def test_context_without_tokens(qa_model):
    with pytest.raises(NoContextTokensError):
        qa_model.predict("What?", "\u0001\u0002\u200b\ufffd")


@pytest.mark.slow
def test_decoding_modules_import_neither_torch_nor_transformers():
    # The ONNX Runtime backend must serve without either installed.
    code = (
        "import sys, service.qa.tokenization, service.qa.spans, service.qa.model, service.app, service.settings;"
        "bad = [m for m in ('torch', 'transformers') if m in sys.modules];"
        "sys.exit(f'imported {bad}' if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr + result.stdout
