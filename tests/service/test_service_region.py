"""The region an instance serves from: read from the variable the stack sets, sent on every
response (a load test through the front door counts requests per region with it)."""

from __future__ import annotations

import dataclasses

import pytest

from service import routes
from service.app import create_app
from service.headers import INSTANCE_REGION
from service.region import REGION_ENV
from service.settings import Settings, SettingsError

QUESTION = {"context": "Roses are red, violets are blue.", "question": "What is blue?"}


def requests_of_every_kind(client) -> list:
    """A probe, an answer, a client error, an unknown path, a wrong method."""
    return [
        client.get(routes.HEALTH),
        client.get(routes.READY),
        client.post(routes.PREDICT, json=QUESTION),
        client.post(routes.PREDICT, json={"context": "no question"}),
        client.get("/no-such-path"),
        client.get(routes.PREDICT),
    ]


def test_every_response_names_the_region_the_stack_set(settings, qa_model):
    client = create_app(dataclasses.replace(settings, region="europe-west4"), model=qa_model).test_client()
    responses = requests_of_every_kind(client)
    assert [r.status_code for r in responses] == [200, 200, 200, 422, 404, 405]
    assert [r.headers.get(INSTANCE_REGION) for r in responses] == ["europe-west4"] * len(responses)


def test_without_a_region_the_header_is_left_out(settings, qa_model):
    assert settings.region == ""
    responses = requests_of_every_kind(create_app(settings, model=qa_model).test_client())
    assert [INSTANCE_REGION in r.headers for r in responses] == [False] * len(responses)
    assert all(r.headers["X-Instance-Id"] for r in responses)  # the other headers stay


def test_the_region_comes_from_the_environment():
    assert Settings.from_env({REGION_ENV: "us-central1"}, require_model=False).region == "us-central1"
    assert Settings.from_env({REGION_ENV: "  asia-south1 "}, require_model=False).region == "asia-south1"
    assert Settings.from_env({}, require_model=False).region == ""
    assert Settings.from_env({REGION_ENV: " "}, require_model=False).region == ""


@pytest.mark.parametrize(
    "value", ["US-CENTRAL1", "us central1", "us-central1\r\nX-Evil: 1", "europe-wëst4", "-x"]
)
def test_a_value_no_header_can_carry_fails_start_up_in_one_line(value):
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({REGION_ENV: value}, require_model=False)
    message = str(caught.value)
    assert "\n" not in message and "\r" not in message
    assert message.startswith(f"{REGION_ENV}=") and "us-central1" in message


def test_the_openapi_document_describes_the_header(client):
    described = client.get(routes.OPENAPI).get_json()["paths"][routes.PREDICT]["post"]["responses"]["200"]
    assert INSTANCE_REGION in described["headers"]
