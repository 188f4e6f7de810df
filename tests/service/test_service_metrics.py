"""GET /metrics: Prometheus text from prometheus_client, counts that match the requests made,
scrapes that never wait for inference, and the same from the real gunicorn process."""

from __future__ import annotations

import dataclasses
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from service_helpers import GatedBackend

from bench.local_service import LocalService
from service import metric_names as metrics
from service.app import create_app
from service.qa.model import QAModel

SEED = {"context": "Roses are red, violets are blue, sugar is sweet, and so are you.", "question": "What?"}


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, keyed by (name, sorted labels)."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(scrape: dict, name: str, **labels: str) -> float:
    return scrape.get((name, tuple(sorted(labels.items()))), 0.0)


def test_counts_match_the_requests_made(client, runtime):
    for _ in range(3):
        assert client.post("/predict", json=SEED).status_code == 200
    assert client.post("/predict", json={"question": "x"}).status_code == 422
    assert client.get("/health").status_code == 200
    assert client.get("/nowhere").status_code == 404
    client.get("/metrics")  # a scrape is not counted: it would count itself

    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    scrape = samples(response.get_data(as_text=True))
    count = f"{metrics.REQUEST_SECONDS}_count"
    assert value(scrape, count, route="/predict", code="200") == 3
    assert value(scrape, count, route="/predict", code="422") == 1
    assert value(scrape, count, route="/health", code="200") == 1
    assert value(scrape, count, route="unmatched", code="404") == 1
    assert not any(dict(labels).get("route") == "/metrics" for _, labels in scrape)
    # Only requests that reached the model are timed as inference.
    assert value(scrape, f"{metrics.INFERENCE_SECONDS}_count") == 3
    assert value(scrape, f"{metrics.QUEUE_SECONDS}_count") == 3
    assert value(scrape, f"{metrics.WINDOWS}_count") == 3
    assert value(scrape, f"{metrics.WINDOWS}_sum") >= 3
    assert value(scrape, metrics.QUEUE_DEPTH) == 0
    assert value(scrape, f"{metrics.PHASE}", **{metrics.PHASE: "ready"}) == 1
    info = next(labels for name, labels in scrape if name == f"{metrics.MODEL_INFO}_info")
    info = dict(info)
    assert (info["model_id"], info["model_revision"]) == ("test/tiny-qa", "0123abc")
    assert (info["runtime"], info["precision"]) == (runtime, "fp32")
    assert "process_cpu_seconds_total" in {name for name, _ in scrape}


def test_a_scrape_does_not_bump_the_request_number(client):
    client.get("/metrics")
    first = client.post("/predict", json=SEED)
    assert first.headers["X-Instance-Request-Count"] == "1"  # still the instance's cold start


def test_scrape_answers_while_a_request_is_inside_the_model(settings, qa_model):
    gated = GatedBackend(qa_model.backend)
    model = QAModel(
        qa_model.tokenizer, gated, use_token_type_ids=False, max_question_tokens=qa_model.max_question_tokens
    )
    gated.gate.set()  # let the warm-up through
    app = create_app(dataclasses.replace(settings, concurrency=1, max_queue=4), model=model)
    gated.gate.clear()
    while gated.entered.acquire(blocking=False):  # forget the warm-up call
        pass
    admission = app.extensions["qa"].admission
    with ThreadPoolExecutor(max_workers=2) as pool:
        running = pool.submit(app.test_client().post, "/predict", json=SEED)
        assert gated.entered.acquire(timeout=10)
        queued = pool.submit(app.test_client().post, "/predict", json=SEED)
        while admission.waiting == 0:
            threading.Event().wait(0.001)
        # The model is blocked: a scrape that took any lock inference holds would hang here.
        scrape = samples(app.test_client().get("/metrics").get_data(as_text=True))
        gated.gate.set()
        assert running.result(30).status_code == 200
        assert queued.result(30).status_code == 200
    assert value(scrape, metrics.IN_FLIGHT) == 1
    assert value(scrape, metrics.QUEUE_DEPTH) == 1
    assert value(scrape, f"{metrics.REQUEST_SECONDS}_count", route="/predict", code="200") == 0


@pytest.mark.slow
def test_scrape_of_the_running_service(baked_model_factory, tmp_path):
    """The real gunicorn process: one worker, so one registry sees every request."""
    model_dir = baked_model_factory("onnx", "fp32")
    env = {"MODEL_ID": "test/tiny", "MODEL_REVISION": "r9", "K_REVISION": "qa-00007-abc"}
    with LocalService(model_dir, tmp_path / "service.log", env=env) as service:
        service.wait_ready(120)
        with requests.Session() as http:
            codes = [http.post(service.url + "/predict", json=SEED, timeout=30).status_code for _ in range(4)]
            codes.append(http.post(service.url + "/predict", data="{", timeout=30).status_code)
            response = http.get(service.url + "/metrics", timeout=30)
    assert codes == [200] * 4 + [415]
    scrape = samples(response.text)
    count = f"{metrics.REQUEST_SECONDS}_count"
    assert value(scrape, count, route="/predict", code="200") == 4
    assert value(scrape, count, route="/predict", code="415") == 1
    assert value(scrape, f"{metrics.INFERENCE_SECONDS}_count") == 4
    # wait_ready polled /ready until 200; every one of those polls is counted under its code.
    assert value(scrape, count, route="/ready", code="200") >= 1
    info = dict(next(labels for name, labels in scrape if name == f"{metrics.MODEL_INFO}_info"))
    assert info["service_revision"] == "qa-00007-abc"
    assert (info["runtime"], info["precision"], info["model_revision"]) == ("onnx", "fp32", "r9")
