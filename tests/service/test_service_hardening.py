"""Every row of the server-hardening trial as a regression test against `python -m service`.

What a client sends through a raw socket, an HTTP library or a JSON body is answered with a
JSON 4xx, never a 5xx, an HTML page or a stack trace in the log; answers' spans are ordered
and non-empty; the work a request may cost is bounded (MAX_WINDOWS).
"""

from __future__ import annotations

import json

import pytest
import requests
from service_helpers import ServiceProcess, raw_exchange

from service.bounds import DEFAULT_MAX_WINDOWS

pytestmark = pytest.mark.slow  # a real gunicorn server

SEED = {"question": "What am I?", "context": "Roses are red, violets are blue, sugar is sweet."}


@pytest.fixture(scope="module")
def server(tiny_model_dir, tmp_path_factory):
    log = tmp_path_factory.mktemp("hardening") / "service.log"
    with ServiceProcess(tiny_model_dir, log, MAX_QUEUE="4") as proc:
        proc.wait_ready()
        yield proc
        # After every test of the module: not one ERROR record or traceback for any of it.
        records = proc.log_records()
        assert not [r for r in records if r["severity"] in ("ERROR", "CRITICAL")]
        assert "Traceback" not in proc.log()


def post_raw(body: bytes, extra: bytes = b"") -> bytes:
    return (
        b"POST /predict HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: application/json\r\n"
        + extra
        + b"Content-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )


RAW_CASES = {
    "4301-digit integer": (
        post_raw(b'{"question": "x", "context": "y", "top_k": ' + b"1" * 4301 + b"}"),
        422,
    ),
    "chunk size not hex": (
        b"POST /predict HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
        400,
    ),
    "headers over 8 KiB": (b"GET /health HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n", 431),
    "5,000-byte request line": (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: t\r\n\r\n", 414),
    "bad Content-Length": (b"POST /predict HTTP/1.1\r\nHost: t\r\nContent-Length: 12a\r\n\r\n", 400),
    "unknown transfer coding": (b"POST /predict HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n", 400),
    "OPTIONS": (b"OPTIONS /predict HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 405),
    "unknown method": (b"BREW /predict HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 405),
    "unknown path": (b"GET /nowhere HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 404),
    "bad request line": (b"NOT HTTP AT ALL\r\n\r\n", 400),
}


@pytest.mark.parametrize("case", list(RAW_CASES))
def test_every_error_is_a_json_4xx(server, case):
    data, want = RAW_CASES[case]
    status, headers, body = raw_exchange(server.port, data)
    assert status == want, body
    assert headers["content-type"] == "application/json"
    assert isinstance(json.loads(body)["error"], str)


def test_options_names_the_allowed_method(server):
    status, headers, _ = raw_exchange(server.port, RAW_CASES["OPTIONS"][0])
    assert (status, headers["allow"]) == (405, "POST")


def test_a_truncated_body_is_a_400_not_an_answer(server):
    body = json.dumps(SEED).encode()
    data = post_raw(body).replace(
        f"Content-Length: {len(body)}".encode(), f"Content-Length: {len(body) + 40}".encode()
    )
    status, headers, answer = raw_exchange(server.port, data, half_close=True)
    assert status == 400
    assert headers["content-type"] == "application/json"
    assert "ended before it was complete" in json.loads(answer)["error"]


def test_expect_continue_gets_one_interim_response_and_the_answer(server):
    body = json.dumps(SEED).encode()
    status, _, answer = raw_exchange(server.port, post_raw(body, b"Expect: 100-continue\r\n"))
    assert status == 200 and json.loads(answer)["answer"]


def test_top_k_never_gives_inverted_or_empty_spans(server):
    context = "x" * 101 + " " + "z" * 101
    body = {"question": "x" * 20, "context": context, "top_k": 20}
    answers = requests.post(server.url + "/predict", json=body, timeout=60).json()["answers"]
    assert answers
    for answer in answers:
        assert answer["start"] < answer["end"]
        assert context[answer["start"] : answer["end"]] == answer["answer"]


def test_offsets_count_code_points_and_the_document_says_so(server):
    context = "😀😀 The capital is Paris."
    body = requests.post(
        server.url + "/predict", json={"question": "capital?", "context": context, "top_k": 5}, timeout=60
    ).json()
    for answer in [body, *body["answers"]]:
        assert context[answer["start"] : answer["end"]] == answer["answer"]
    document = requests.get(server.url + "/openapi.json", timeout=10).json()
    answer_schema = document["components"]["schemas"]["Answer"]["properties"]
    assert "Unicode code points" in answer_schema["start"]["description"]


@pytest.mark.parametrize(
    ("fields", "want"),
    [
        ({"top_k": 1.0}, 200),  # an integer to JSON Schema, so to the service
        ({"top_k": 2.0}, 200),
        ({"top_k": 1.5}, 422),
        ({"question": "x\u0000y"}, 422),
        ({"context": "\u0001\u0002"}, 422),
        ({"question": "   "}, 422),
        ({"question": "word " * 70}, 413),  # over MAX_QUESTION_TOKENS: a size limit
    ],
    ids=["1.0", "2.0", "1.5", "nul", "control-only", "blank", "long-question"],
)
def test_the_service_agrees_with_its_document(server, fields, want):
    response = requests.post(server.url + "/predict", json={**SEED, **fields}, timeout=60)
    assert response.status_code == want, response.text
    assert response.headers["Content-Type"] == "application/json"


def test_the_worst_request_is_refused_by_its_windows_before_any_forward_pass(server):
    cjk = "".join(chr(0x4E00 + (i * 7) % 2000) for i in range(50_000))
    response = requests.post(server.url + "/predict", json={"question": "何?", "context": cjk}, timeout=60)
    assert response.status_code == 413
    error = response.json()["error"]
    assert f"limit is {DEFAULT_MAX_WINDOWS} windows" in error and "MAX_WINDOWS" in error
    assert "inference;dur=0.000" in response.headers["Server-Timing"]
    document = requests.get(server.url + "/openapi.json", timeout=10).json()
    context = document["components"]["schemas"]["PredictRequest"]["properties"]["context"]
    assert context["x-max-windows"] == DEFAULT_MAX_WINDOWS
