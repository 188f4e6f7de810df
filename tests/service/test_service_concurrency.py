"""Concurrency: threads give the same answers as serial; overload is a 503, never a hang."""

from __future__ import annotations

import dataclasses
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from service_helpers import GatedBackend, assert_same_answers

from service.admission import Admission
from service.app import create_app
from service.errors import OverloadedError
from service.qa.model import QAModel

CONTEXTS = [
    "Roses are red, violets are blue, sugar is sweet, and so are you.",
    "Paris is the capital of France. The river Seine flows through the city.",
    "巴黎是法国的首都。北京是中国的首都，东京是日本的首都。",
    "The rose 🌹 is red 😀 and the fire 🔥 is hot today.",
    "The old king lived in a large house near the forest with his dog. " * 30,
    "Le café naïve est à Paris; l'élève a été über straße, señor.",
]
QUESTIONS = ["What is it?", "Where is the river?", "Who lived there?"]


def test_threads_give_the_same_answers_as_serial(settings, qa_model):
    client_settings = dataclasses.replace(settings, concurrency=4, max_queue=64)
    app = create_app(client_settings, model=qa_model)
    bodies = [{"question": q, "context": c, "top_k": 2} for q in QUESTIONS for c in CONTEXTS]
    serial = [app.test_client().post("/predict", json=b).get_json() for b in bodies]

    def ask(body):
        response = app.test_client().post("/predict", json=body)
        assert response.status_code == 200
        return response.get_json()

    with ThreadPoolExecutor(max_workers=8) as pool:
        concurrent = list(pool.map(ask, bodies * 2))
    assert_same_answers(concurrent, serial * 2)


def test_admission_runs_queues_then_refuses():
    gate = Admission(slots=1, max_queue=1, timeout_s=30)
    holding, release = threading.Event(), threading.Event()
    results = []

    def hold():
        with gate.slot():
            holding.set()
            release.wait(30)
        results.append("first")

    def queued():
        with gate.slot() as waited_ms:
            results.append(("second", waited_ms >= 0))

    first = threading.Thread(target=hold)
    first.start()
    assert holding.wait(10)
    second = threading.Thread(target=queued)
    second.start()
    while gate.waiting == 0:  # the second request is now waiting for the slot
        threading.Event().wait(0.001)
    with pytest.raises(OverloadedError, match="at capacity"), gate.slot():
        pass
    release.set()
    first.join(10)
    second.join(10)
    assert results == ["first", ("second", True)]
    assert (gate.running, gate.waiting) == (0, 0)


def test_admission_gives_up_after_the_queue_timeout():
    gate = Admission(slots=1, max_queue=4, timeout_s=0.01)
    release = threading.Event()
    holding = threading.Event()

    def hold():
        with gate.slot():
            holding.set()
            release.wait(30)

    thread = threading.Thread(target=hold)
    thread.start()
    assert holding.wait(10)
    with pytest.raises(OverloadedError, match="no model slot became free"), gate.slot():
        pass
    release.set()
    thread.join(10)
    assert (gate.running, gate.waiting) == (0, 0)
    with gate.slot():  # the slot is free again
        assert gate.running == 1


def test_overload_is_503_with_retry_after_and_queued_requests_complete(settings, qa_model):
    gated = GatedBackend(qa_model.backend)
    model = QAModel(
        qa_model.tokenizer, gated, use_token_type_ids=False, max_question_tokens=qa_model.max_question_tokens
    )
    gated.gate.set()  # let the warm-up through
    app = create_app(dataclasses.replace(settings, concurrency=1, max_queue=1), model=model)
    gated.gate.clear()
    while gated.entered.acquire(blocking=False):  # forget the warm-up call
        pass
    body = {"question": "What is it?", "context": CONTEXTS[0]}

    with ThreadPoolExecutor(max_workers=2) as pool:
        running = pool.submit(app.test_client().post, "/predict", json=body)
        assert gated.entered.acquire(timeout=10)  # first request is inside the model
        queued = pool.submit(app.test_client().post, "/predict", json=body)
        admission = app.extensions["qa"].admission
        while admission.waiting == 0:
            threading.Event().wait(0.001)
        refused = app.test_client().post("/predict", json=body)
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "1"
        assert "capacity" in refused.get_json()["error"]
        # Probes still answer while every model slot is busy.
        assert app.test_client().get("/health").status_code == 200
        gated.gate.set()
        assert running.result(30).status_code == 200
        assert queued.result(30).status_code == 200
