"""Dynamic batching (service/batching.py): rows back to their requests, isolation, max wait, drain.

The Batcher is driven directly with a stand-in forward pass where the test must know exactly
which rows went where; the app tests run the real Flask app with BATCHING on. Batched answers
equal serial ones on the golden cases: tests/service/qa/test_qa_batching_golden.py.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from service_helpers import (
    POISON,
    EchoForward,
    GatedBackend,
    assert_same_answers,
    make_batcher,
    request_arrays,
    run_together,
)

from bench.headers import parse_server_timing, timing_params
from service.app import create_app
from service.batching import Batcher
from service.errors import NotReadyError, OverloadedError
from service.qa.model import QAModel
from service.qa.tokenization import Padding, split_rows, stack_windows


@pytest.mark.parametrize("side", ["right", "left"])
def test_stack_and_split_give_each_request_its_own_rows(side):
    requests = [request_arrays(2, 3, 100), request_arrays(1, 5, 200), request_arrays(3, 1, 300)]
    padding = Padding(side, {"input_ids": 7})
    stacked = stack_windows(requests, padding)
    assert stacked["input_ids"].shape == (6, 5)
    first_row = stacked["input_ids"][0]
    assert list(first_row) == ([100, 101, 102, 7, 7] if side == "right" else [7, 7, 100, 101, 102])
    assert stacked["attention_mask"].sum() == 2 * 3 + 5 + 3  # padding is masked out
    parts = split_rows(stacked["input_ids"], stacked["attention_mask"], [(2, 3), (1, 5), (3, 1)], side)
    for (start, end), arrays in zip(parts, requests, strict=True):
        np.testing.assert_array_equal(start, arrays["input_ids"])
        np.testing.assert_array_equal(end, arrays["attention_mask"])


def test_requests_that_arrive_together_share_one_forward_pass():
    forward = EchoForward()
    batcher, pool = make_batcher(forward, max_wait_s=5.0)
    requests = [request_arrays(1, w, 1000 * (w + 1)) for w in (3, 7, 2, 5)]
    results = run_together(batcher, requests)
    pool.shutdown()
    assert forward.calls == [4]  # one pass, all four
    for (start, _end, info), arrays in zip(results, requests, strict=True):
        np.testing.assert_array_equal(start, arrays["input_ids"])
        assert (info.size, info.windows) == (4, 4)
        assert info.wait_ms < 5000  # went when the last one arrived, not at max wait


def test_a_batch_is_bounded_by_max_windows_and_keeps_arrival_order():
    forward = EchoForward()
    batcher, pool = make_batcher(forward, max_wait_s=5.0, max_windows=4)
    requests = [request_arrays(rows, 2, 100 * i) for i, rows in enumerate([2, 1, 2, 3, 6, 1], start=1)]
    results = run_together(batcher, requests)
    pool.shutdown()
    # Oldest first while they fit; the 6-window request is over the bound and runs alone.
    assert sum(forward.calls) == 15
    assert [rows for rows in forward.calls if rows > 4] == [6]
    for (start, _, info), arrays in zip(results, requests, strict=True):
        np.testing.assert_array_equal(start, arrays["input_ids"])
        assert info.windows <= 4 or info.size == 1  # an oversize request runs alone


def test_one_bad_request_in_a_batch_fails_alone():
    forward = EchoForward()
    batcher, pool = make_batcher(forward, max_wait_s=5.0)
    requests = [request_arrays(1, 4, 10), request_arrays(2, 3, 20), request_arrays(1, 5, 30)]
    requests[1]["input_ids"][1, 2] = POISON
    results = run_together(batcher, requests)
    pool.shutdown()
    assert forward.calls[0] == 4  # tried as one batch first, then one by one
    assert isinstance(results[1], ValueError)
    for i in (0, 2):
        start, _, _ = results[i]
        np.testing.assert_array_equal(start, requests[i]["input_ids"])


def test_max_wait_is_honoured_while_another_request_is_on_its_way():
    forward = EchoForward()
    batcher, pool = make_batcher(forward, max_wait_s=0.3)
    with batcher.reserve():  # admitted, still tokenizing, never submits
        t0 = time.perf_counter()
        _, _, info = batcher.run(request_arrays(1, 3, 1))
        waited = time.perf_counter() - t0
    assert 0.25 <= info.wait_ms / 1000 <= waited < 5
    assert forward.calls == [1]
    pool.shutdown()


def test_a_lone_request_does_not_wait_for_company():
    batcher, pool = make_batcher(EchoForward(), max_wait_s=30.0)
    t0 = time.perf_counter()
    _, _, info = batcher.run(request_arrays(1, 3, 1))
    assert time.perf_counter() - t0 < 10 and info.size == 1  # not the 30 s max wait
    pool.shutdown()


def test_a_request_that_times_out_in_the_queue_leaves_alone():
    gate = threading.Event()
    forward = EchoForward(gate)
    batcher, pool = make_batcher(forward, max_wait_s=0.0, max_windows=1, timeout_s=0.2)
    with ThreadPoolExecutor(max_workers=2) as clients:
        first = clients.submit(batcher.run, request_arrays(1, 2, 10))
        assert forward.entered.acquire(timeout=10)  # its batch is in the forward pass
        late = clients.submit(batcher.run, request_arrays(1, 2, 20))  # queued behind it
        with pytest.raises(OverloadedError, match=r"no batch took this request within 0\.2 s"):
            late.result(10)
        assert batcher.queued == 0
        gate.set()
        start, _, info = first.result(10)  # the long one is untouched
    np.testing.assert_array_equal(start, [[10, 11]])
    assert forward.calls == [1] and info.size == 1  # the timed-out request never ran
    pool.shutdown()


def test_close_drains_queued_batches_then_refuses_new_requests(wait_until):
    gate = threading.Event()
    forward = EchoForward(gate)
    batcher, pool = make_batcher(forward, max_wait_s=10.0, max_windows=2)
    with ThreadPoolExecutor(max_workers=5) as clients:
        running = clients.submit(batcher.run, request_arrays(2, 2, 1))
        assert forward.entered.acquire(timeout=10)
        queued = [clients.submit(batcher.run, request_arrays(1, 2, 100 * i)) for i in range(1, 4)]
        wait_until(lambda: batcher.queued == 3, "three requests queued behind the running batch")
        closing = clients.submit(batcher.close, 30)
        wait_until(lambda: batcher.closed, "close() begun")
        with pytest.raises(NotReadyError, match="shutting down"):
            batcher.run(request_arrays(1, 2, 9))
        gate.set()
        assert closing.result(30) is True
        assert running.result(10)[2].size == 1
        for i, future in enumerate(queued, start=1):
            np.testing.assert_array_equal(future.result(10)[0], [[100 * i, 100 * i + 1]])
    assert forward.calls == [2, 2, 1]
    pool.shutdown()


def test_a_stopped_runner_fails_requests_at_once_instead_of_hanging():
    pool = ThreadPoolExecutor(max_workers=1)
    pool.shutdown()
    batcher = Batcher(EchoForward(), submit=pool.submit, max_wait_s=0, max_windows=4, timeout_s=30)
    with pytest.raises(NotReadyError):
        batcher.run(request_arrays(1, 2, 1))


# --- the app -------------------------------------------------------------------------------------

BODY = {"question": "What is it?", "context": "Roses are red, violets are blue, sugar is sweet."}


def test_the_app_batches_and_reports_batch_wait_and_size(settings, qa_model):
    plain = create_app(settings, model=qa_model).test_client().post("/predict", json=BODY)
    app = create_app(dataclasses.replace(settings, batching=True, concurrency=4), model=qa_model)
    response = app.test_client().post("/predict", json=BODY)
    assert response.status_code == 200
    assert_same_answers(response.get_json(), plain.get_json())
    header = response.headers["Server-Timing"]
    timing = parse_server_timing(header)
    assert {"queue", "tokenize", "batch", "inference", "decode", "total"} <= set(timing)
    assert timing_params(header, "batch") == {"size": "1", "windows": "1"}
    assert "batch" not in parse_server_timing(plain.headers["Server-Timing"])
    assert app.extensions["qa"].runner.threads == 1  # one thread runs every forward pass


def test_concurrent_requests_share_batches_through_the_app(settings, qa_model):
    app = create_app(
        dataclasses.replace(settings, batching=True, concurrency=8, max_queue=64, batch_max_wait_ms=50),
        model=qa_model,
    )
    bodies = [{"question": q, "context": c} for q in ("What is it?", "Who?") for c in CONTEXTS] * 2
    serial = [create_app(settings, model=qa_model).test_client().post("/predict", json=b) for b in bodies]

    def ask(body):
        return app.test_client().post("/predict", json=body)

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(ask, bodies))
    assert_same_answers([r.get_json() for r in responses], [r.get_json() for r in serial])
    sizes = [int(timing_params(r.headers["Server-Timing"], "batch")["size"]) for r in responses]
    assert max(sizes) > 1


CONTEXTS = [
    "Roses are red, violets are blue, sugar is sweet, and so are you.",
    "Paris is the capital of France. The river Seine flows through the city.",
    "The old king lived in a large house near the forest with his dog. " * 20,
]


def test_admission_503s_still_hold_under_batching(settings, qa_model):
    gated = GatedBackend(qa_model.backend)
    model = QAModel(
        qa_model.tokenizer, gated, use_token_type_ids=False, max_question_tokens=qa_model.max_question_tokens
    )
    gated.gate.set()  # the warm-up
    app = create_app(dataclasses.replace(settings, batching=True, concurrency=1, max_queue=0), model=model)
    gated.gate.clear()
    while gated.entered.acquire(blocking=False):
        pass
    with ThreadPoolExecutor(max_workers=1) as pool:
        running = pool.submit(app.test_client().post, "/predict", json=BODY)
        assert gated.entered.acquire(timeout=10)  # in its batch's forward pass
        refused = app.test_client().post("/predict", json=BODY)
        assert refused.status_code == 503 and refused.headers["Retry-After"] == "1"
        gated.gate.set()
        assert running.result(30).status_code == 200


def test_a_bad_request_next_to_good_ones_gets_its_own_4xx(settings, qa_model):
    app = create_app(dataclasses.replace(settings, batching=True, concurrency=4), model=qa_model)
    bad = {"question": "word " * 300, "context": BODY["context"]}  # over the question limit

    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(lambda b: app.test_client().post("/predict", json=b), [BODY, bad, BODY]))
    assert [r.status_code for r in responses] == [200, 413, 200]  # 413: over MAX_QUESTION_TOKENS
    assert app.extensions["qa"].batcher._preparing == 0  # the failed one left no reservation behind
