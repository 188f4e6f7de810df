"""The HTTP contract of DESIGN.md "The inference service", over HTTP against a target.

Written once for every target: the local process (tests/contract/conftest.py) and each
container image (tests/image/test_image_contract.py). White-box checks that need the app
object (loading, draining, fresh counters) stay in tests/service/test_service_api.py.
"""

from __future__ import annotations

import re

import jsonschema
import pytest

pytestmark = pytest.mark.slow  # a real server process (or container) per target

SEED = {
    "context": "Roses are red, violets are blue, sugar is sweet, and so are you.",
    "question": "What am I?",
}
TIMING = re.compile(r"^[a-z]+;dur=\d+\.\d{3}(, [a-z]+;dur=\d+\.\d{3})*$")


def _timings(response) -> dict[str, float]:
    header = response.headers["Server-Timing"]
    assert TIMING.match(header), header
    return {part.split(";")[0]: float(part.split("dur=")[1]) for part in header.split(", ")}


def test_predict_answers_with_a_span_of_the_context(target):
    response = target.post("/predict", json=SEED)
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["answer", "score", "start", "end"]
    assert body["answer"] == SEED["context"][body["start"] : body["end"]]
    assert body["answer"]
    assert 0.0 < body["score"] <= 1.0
    assert 0 <= body["start"] < body["end"] <= len(SEED["context"])


def test_every_response_carries_instance_and_timing_headers(target):
    responses = [
        target.post("/predict", json=SEED),
        target.get("/health"),
        target.get("/ready"),
        target.get("/openapi.json"),
        target.get("/nope"),
        target.post("/predict", data="x", headers={"Content-Type": "application/json"}),
    ]
    ids = {r.headers["X-Instance-Id"] for r in responses}
    assert len(ids) == 1  # one worker per instance
    assert re.fullmatch(r"[0-9a-f]{16}", ids.pop())
    for response in responses:
        timings = _timings(response)
        assert {"inference", "total"} <= set(timings)
        assert int(response.headers["X-Instance-Request-Count"]) >= 1
    predict = _timings(responses[0])
    assert predict["inference"] > 0
    assert predict["total"] >= predict["inference"]
    assert _timings(responses[1])["inference"] == 0


def test_probes_do_not_count_as_requests(target):
    before = int(target.get("/ready").headers["X-Instance-Request-Count"])
    target.get("/health")
    assert int(target.get("/ready").headers["X-Instance-Request-Count"]) == before
    after = target.post("/predict", json=SEED).headers["X-Instance-Request-Count"]
    assert int(after) == before + 1


def test_ready_reports_what_is_served(target):
    response = target.get("/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert (body["model_id"], body["model_revision"]) == (target.model_id, target.revision)
    assert (body["backend"], body["precision"]) == (target.runtime, target.precision)
    assert body["instance_id"] == response.headers["X-Instance-Id"]


def test_top_k_returns_ranked_answers(target):
    body = target.post("/predict", json={**SEED, "top_k": 3}).json()
    answers = body["answers"]
    assert len(answers) == 3
    assert answers[0] == {k: body[k] for k in ("answer", "score", "start", "end")}
    assert [a["score"] for a in answers] == sorted((a["score"] for a in answers), reverse=True)
    for answer in answers:
        assert answer["answer"] == SEED["context"][answer["start"] : answer["end"]]


def test_openapi_describes_the_api_and_validates_a_real_response(target):
    spec = target.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert set(spec["paths"]) == {"/predict", "/health", "/ready", "/openapi.json", "/metrics"}
    assert not any(path.endswith("z") for path in spec["paths"])
    schemas = spec["components"]["schemas"]
    resolver_root = {"components": spec["components"]}

    def validate(instance, name):
        schema = {**schemas[name], "components": spec["components"]}
        jsonschema.validate(instance, schema | resolver_root)

    validate(SEED, "PredictRequest")
    validate(target.post("/predict", json={**SEED, "top_k": 2}).json(), "PredictResponse")
    validate(target.get("/ready").json(), "Ready")
    validate(target.get("/nope").json(), "Error")
    with pytest.raises(jsonschema.ValidationError):
        validate({**SEED, "qestion": "typo"}, "PredictRequest")
