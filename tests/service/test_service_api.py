"""The app object's side of the HTTP contract: loading, readiness, draining, counters per instance.

The contract as a client sees it is tests/contract/ (run against a local process and each image).
"""

from __future__ import annotations

import threading

from service.app import create_app
from service.qa.model import QAModel

SEED = {
    "context": "Roses are red, violets are blue, sugar is sweet, and so are you.",
    "question": "What am I?",
}


def test_request_count_starts_at_one_and_ignores_probes(settings, qa_model):
    client = create_app(settings, model=qa_model).test_client()
    assert client.get("/ready").headers["X-Instance-Request-Count"] == "0"
    assert client.get("/health").headers["X-Instance-Request-Count"] == "0"
    counts = [client.post("/predict", json=SEED).headers["X-Instance-Request-Count"] for _ in "abc"]
    assert counts == ["1", "2", "3"]
    assert client.get("/ready").headers["X-Instance-Request-Count"] == "3"


def test_instance_id_differs_between_instances(settings, qa_model):
    first = create_app(settings, model=qa_model).test_client().get("/health")
    second = create_app(settings, model=qa_model).test_client().get("/health")
    assert first.headers["X-Instance-Id"] != second.headers["X-Instance-Id"]


def test_readiness_before_and_after_the_model_loads(settings, qa_model):
    release = threading.Event()

    def slow_loader() -> QAModel:
        assert release.wait(30)
        return qa_model

    app = create_app(settings, loader=slow_loader)
    client = app.test_client()
    state = app.extensions["qa"].state
    before = client.get("/ready")
    assert before.status_code == 503
    assert before.headers["Retry-After"] == "5"
    assert "loading" in before.get_json()["error"]
    assert client.get("/health").status_code == 200
    not_yet = client.post("/predict", json=SEED)
    assert not_yet.status_code == 503
    assert "error" in not_yet.get_json()
    release.set()
    assert state.loaded.wait(30)
    assert client.get("/ready").status_code == 200
    assert client.post("/predict", json=SEED).status_code == 200


def test_ready_stays_503_with_the_reason_when_loading_fails(settings):
    def broken_loader() -> QAModel:
        raise OSError("model.safetensors is truncated")

    app = create_app(settings, loader=broken_loader)
    assert app.extensions["qa"].state.loaded.wait(30)
    response = app.test_client().get("/ready")
    assert response.status_code == 503
    assert "failed" in response.get_json()["error"]
    assert "truncated" in response.get_json()["error"]
    assert app.test_client().get("/health").status_code == 200


def test_draining_turns_ready_off_but_still_answers(settings, qa_model):
    app = create_app(settings, model=qa_model)
    client = app.test_client()
    assert client.get("/ready").status_code == 200
    app.extensions["qa"].state.begin_drain()
    response = client.get("/ready")
    assert response.status_code == 503
    assert "draining" in response.get_json()["error"]
    # Requests the server already accepted are still served during the drain.
    assert client.post("/predict", json=SEED).status_code == 200


def test_max_answer_len_limits_the_span(client, qa_model):
    body = client.post("/predict", json={**SEED, "max_answer_len": 1}).get_json()
    tokens = qa_model.tokenizer.count_tokens(body["answer"])
    assert 1 <= tokens <= 2  # one token, widened to its whole word
