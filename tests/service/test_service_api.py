"""The HTTP contract of DESIGN.md "The inference service", through the Flask test client."""

from __future__ import annotations

import re
import threading

import jsonschema
import pytest

from service.app import create_app
from service.qa.model import QAModel

SEED = {
    "context": "Roses are red, violets are blue, sugar is sweet, and so are you.",
    "question": "What am I?",
}
TIMING = re.compile(r"^[a-z]+;dur=\d+\.\d{3}(, [a-z]+;dur=\d+\.\d{3})*$")


def _timings(response) -> dict[str, float]:
    header = response.headers["Server-Timing"]
    assert TIMING.match(header), header
    return {part.split(";")[0]: float(part.split("dur=")[1]) for part in header.split(", ")}


def test_predict_answers_with_a_span_of_the_context(client):
    response = client.post("/predict", json=SEED)
    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == ["answer", "score", "start", "end"]
    assert body["answer"] == SEED["context"][body["start"] : body["end"]]
    assert body["answer"]
    assert 0.0 < body["score"] <= 1.0
    assert 0 <= body["start"] < body["end"] <= len(SEED["context"])


def test_every_response_carries_instance_and_timing_headers(client):
    responses = [
        client.post("/predict", json=SEED),
        client.get("/health"),
        client.get("/ready"),
        client.get("/openapi.json"),
        client.get("/nope"),
        client.post("/predict", data="x", content_type="application/json"),
    ]
    ids = {r.headers["X-Instance-Id"] for r in responses}
    assert len(ids) == 1
    assert re.fullmatch(r"[0-9a-f]{16}", ids.pop())
    for response in responses:
        timings = _timings(response)
        assert {"inference", "total"} <= set(timings)
        assert int(response.headers["X-Instance-Request-Count"]) >= 1
    predict = _timings(responses[0])
    assert predict["inference"] > 0
    assert predict["total"] >= predict["inference"]
    assert _timings(responses[1])["inference"] == 0


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


def test_ready_reports_model_id_and_revision(client):
    response = client.get("/ready")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ready"
    assert (body["model_id"], body["model_revision"]) == ("test/tiny-qa", "0123abc")
    assert body["instance_id"] == response.headers["X-Instance-Id"]


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


def test_top_k_returns_ranked_answers(client):
    body = client.post("/predict", json={**SEED, "top_k": 3}).get_json()
    answers = body["answers"]
    assert len(answers) == 3
    assert answers[0] == {k: body[k] for k in ("answer", "score", "start", "end")}
    assert [a["score"] for a in answers] == sorted((a["score"] for a in answers), reverse=True)
    for answer in answers:
        assert answer["answer"] == SEED["context"][answer["start"] : answer["end"]]


def test_max_answer_len_limits_the_span(client, qa_model):
    body = client.post("/predict", json={**SEED, "max_answer_len": 1}).get_json()
    tokens = qa_model.tokenizer.count_tokens(body["answer"])
    assert 1 <= tokens <= 2  # one token, widened to its whole word


def test_openapi_describes_the_api_and_validates_a_real_response(client):
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert set(spec["paths"]) == {"/predict", "/health", "/ready", "/openapi.json", "/metrics"}
    assert not any(path.endswith("z") for path in spec["paths"])
    schemas = spec["components"]["schemas"]
    resolver_root = {"components": spec["components"]}

    def validate(instance, name):
        schema = {**schemas[name], "components": spec["components"]}
        jsonschema.validate(instance, schema | resolver_root)

    validate(SEED, "PredictRequest")
    validate(client.post("/predict", json={**SEED, "top_k": 2}).get_json(), "PredictResponse")
    validate(client.get("/ready").get_json(), "Ready")
    validate(client.get("/nope").get_json(), "Error")
    with pytest.raises(jsonschema.ValidationError):
        validate({**SEED, "qestion": "typo"}, "PredictRequest")
