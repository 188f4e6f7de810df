"""X-Instance-Ready-Age-Ms: how long the instance had been ready when a request arrived."""

from __future__ import annotations

import time

from service.lifecycle import ServiceState

SEED = {"context": "Roses are red, violets are blue.", "question": "What is red?"}


def test_every_response_after_ready_carries_the_ready_age_and_it_grows(client):
    first = client.post("/predict", json=SEED)
    time.sleep(0.05)
    second = client.get("/health")
    ages = [float(r.headers["X-Instance-Ready-Age-Ms"]) for r in (first, second)]
    assert 0 <= ages[0] < ages[1]
    assert ages[1] - ages[0] >= 40


def test_no_ready_age_before_the_model_is_ready():
    state = ServiceState("m", "r")
    assert state.ready_age_ms() is None
    state.phase = "draining"  # a drain before ready does not invent a ready time
    assert state.ready_age_ms() is None


def test_openapi_documents_the_header(client):
    headers = client.get("/openapi.json").get_json()["paths"]["/predict"]["post"]["responses"]["200"][
        "headers"
    ]
    assert "X-Instance-Ready-Age-Ms" in headers
