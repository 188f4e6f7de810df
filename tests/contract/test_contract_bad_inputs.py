"""Bad input never costs a 5xx, a traceback or the process: one row per class of mistake.

Over HTTP against a target (the local process, each container image). Each row pins the exact
status and checks the body is JSON `{"error": "..."}` that names the problem; the server must
still answer normally afterwards. In-process cases (an internal bug is a JSON 500) stay in
tests/service/test_service_bad_inputs.py.
"""

from __future__ import annotations

import json

import pytest

from tests.contract.contract_target import MAX_BODY_BYTES

pytestmark = pytest.mark.slow  # a real server process (or container) per target

GOOD = {"question": "What am I?", "context": "Roses are red, violets are blue."}
JSON = "application/json"


def body(**fields) -> bytes:
    return json.dumps({**GOOD, **fields}).encode()


def raw_fields(question: str, context: str) -> bytes:
    """JSON with fields written verbatim (escapes json.dumps would not produce)."""
    return f'{{"question": "{question}", "context": "{context}"}}'.encode()


# (id, method, path, data, content_type, status, words the error must contain)
CASES = [
    # --- transport / media type
    ("no-content-type", "POST", "/predict", body(), None, 415, "Content-Type"),
    ("text-plain", "POST", "/predict", body(), "text/plain", 415, "application/json"),
    (
        "form-urlencoded",
        "POST",
        "/predict",
        b"question=a&context=b",
        "application/x-www-form-urlencoded",
        415,
        "application/json",
    ),
    ("multipart", "POST", "/predict", b"--x--", "multipart/form-data; boundary=x", 415, "JSON"),
    ("latin1-charset", "POST", "/predict", body(), "application/json; charset=latin-1", 415, "UTF-8"),
    # --- not parseable -> 400
    ("empty-body", "POST", "/predict", b"", JSON, 400, "empty"),
    ("whitespace-body", "POST", "/predict", b"  \n ", JSON, 400, "empty"),
    ("truncated-json", "POST", "/predict", b'{"question": "a", ', JSON, 400, "not valid JSON"),
    ("trailing-garbage", "POST", "/predict", body() + b" x", JSON, 400, "not valid JSON"),
    ("single-quotes", "POST", "/predict", b"{'question': 'a'}", JSON, 400, "not valid JSON"),
    ("invalid-utf8", "POST", "/predict", b'{"question": "\xff\xfe", "context": "x"}', JSON, 400, "UTF-8"),
    ("utf16-json", "POST", "/predict", json.dumps(GOOD).encode("utf-16"), JSON, 400, "UTF-8"),
    ("utf8-bom", "POST", "/predict", b"\xef\xbb\xbf" + body(), JSON, 400, "not valid JSON"),
    ("nan-literal", "POST", "/predict", b'{"question": "a", "context": "b", "top_k": NaN}', JSON, 400, "NaN"),
    (
        "infinity-literal",
        "POST",
        "/predict",
        b'{"question": "a", "context": "b", "top_k": Infinity}',
        JSON,
        400,
        "Infinity",
    ),
    (
        "raw-control-char",
        "POST",
        "/predict",
        b'{"question": "a\x01b", "context": "c"}',
        JSON,
        400,
        "not valid JSON",
    ),
    ("deeply-nested-array", "POST", "/predict", b"[" * 5_000 + b"]" * 5_000, JSON, 400, "nested too deeply"),
    (
        "deeply-nested-field",
        "POST",
        "/predict",
        b'{"question": "a", "context": ' + b'{"a":' * 2000 + b"1" + b"}" * 2000 + b"}",
        JSON,
        400,
        "nested too deeply",
    ),
    # --- too large -> 413
    ("body-over-cap", "POST", "/predict", body(context="x " * 15_000), JSON, 413, "MAX_BODY_BYTES"),
    ("context-over-cap", "POST", "/predict", body(context="word " * 1_200), JSON, 413, "MAX_CONTEXT_CHARS"),
    # --- valid JSON, wrong shape or content -> 422
    ("top-level-array", "POST", "/predict", b'[{"question": "a", "context": "b"}]', JSON, 422, "JSON object"),
    ("top-level-string", "POST", "/predict", b'"What am I?"', JSON, 422, "JSON object"),
    ("top-level-null", "POST", "/predict", b"null", JSON, 422, "JSON object"),
    ("missing-question", "POST", "/predict", b'{"context": "b"}', JSON, 422, "'question'"),
    ("missing-context", "POST", "/predict", b'{"question": "a"}', JSON, 422, "'context'"),
    ("question-null", "POST", "/predict", body(question=None), JSON, 422, "got null"),
    ("question-number", "POST", "/predict", body(question=42), JSON, 422, "got a number"),
    ("question-bool", "POST", "/predict", body(question=True), JSON, 422, "got a boolean"),
    ("context-array", "POST", "/predict", body(context=["a", "b"]), JSON, 422, "got an array"),
    ("context-object", "POST", "/predict", body(context={"text": "a"}), JSON, 422, "got an object"),
    ("question-empty", "POST", "/predict", body(question=""), JSON, 422, "empty"),
    ("context-blank", "POST", "/predict", body(context="  \n\t "), JSON, 422, "blank"),
    ("question-unicode-blank", "POST", "/predict", body(question="\u3000\u00a0\u2003"), JSON, 422, "blank"),
    ("question-nul", "POST", "/predict", raw_fields("a\\u0000b", "c"), JSON, 422, "NUL"),
    ("context-nul", "POST", "/predict", raw_fields("a", "roses\\u0000"), JSON, 422, "NUL"),
    ("lone-high-surrogate", "POST", "/predict", raw_fields("a\\ud800b", "c"), JSON, 422, "surrogate"),
    ("lone-low-surrogate", "POST", "/predict", raw_fields("a", "x\\udc00"), JSON, 422, "surrogate"),
    ("unknown-field", "POST", "/predict", body(qestion="typo"), JSON, 422, "unknown field"),
    (
        "duplicate-field",
        "POST",
        "/predict",
        b'{"question": "a", "question": "b", "context": "c"}',
        JSON,
        422,
        "more than once",
    ),
    # a size limit the OpenAPI document cannot state in characters: 413, like the others
    ("question-too-many-tokens", "POST", "/predict", body(question="red " * 70), JSON, 413, "tokens"),
    ("context-without-text", "POST", "/predict", body(context="\u0001\u0002\u200b"), JSON, 422, "no letter"),
    ("question-only-punctuation", "POST", "/predict", body(question="?!"), JSON, 422, "no letter"),
    (
        "huge-integer",
        "POST",
        "/predict",
        b'{"question": "a", "context": "b", "top_k": ' + b"9" * 4301 + b"}",
        JSON,
        422,
        "digits",
    ),
    ("top-k-zero", "POST", "/predict", body(top_k=0), JSON, 422, "top_k"),
    ("top-k-too-big", "POST", "/predict", body(top_k=1000), JSON, 422, "top_k"),
    ("top-k-string", "POST", "/predict", body(top_k="3"), JSON, 422, "integer"),
    ("top-k-bool", "POST", "/predict", body(top_k=True), JSON, 422, "integer"),
    ("top-k-float", "POST", "/predict", body(top_k=1.5), JSON, 422, "integer"),
    ("max-answer-len-negative", "POST", "/predict", body(max_answer_len=-1), JSON, 422, "max_answer_len"),
    (
        "impossible-flag-string",
        "POST",
        "/predict",
        body(handle_impossible_answer="yes"),
        JSON,
        422,
        "true or false",
    ),
    # --- wrong method / path
    ("get-predict", "GET", "/predict", None, None, 405, "POST"),
    ("put-predict", "PUT", "/predict", body(), JSON, 405, "POST"),
    ("delete-health", "DELETE", "/health", None, None, 405, "GET"),
    ("post-ready", "POST", "/ready", body(), JSON, 405, "GET"),
    ("unknown-path", "GET", "/predictz", None, None, 404, "POST /predict"),
    ("root-path", "POST", "/", body(), JSON, 404, "POST /predict"),
]


@pytest.mark.parametrize("case", [pytest.param(case, id=case[0]) for case in CASES])
def test_bad_input_gets_a_clear_json_error(target, case):
    _, method, path, data, content_type, status, words = case
    headers = {"Content-Type": content_type} if content_type else {}
    response = target.request(method, path, data=data, headers=headers)
    assert response.status_code == status
    assert response.headers["Content-Type"].split(";")[0] == "application/json"
    payload = response.json()
    assert list(payload) == ["error"]
    assert isinstance(payload["error"], str)
    assert words in payload["error"]
    assert "Traceback" not in response.text
    # ...and the server is unharmed.
    assert target.post("/predict", json=GOOD).status_code == 200


def test_matrix_has_at_least_thirty_classes():
    assert len({case[0] for case in CASES}) == len(CASES) >= 30


def test_method_not_allowed_lists_the_allowed_methods(target):
    response = target.get("/predict")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]


def _chunks(data: bytes, size: int = 4096):
    for i in range(0, len(data), size):
        yield data[i : i + size]


def test_chunked_body_over_the_cap_is_413(target):
    # A generator body is sent chunked: no Content-Length, the size is only known while reading.
    response = target.post(
        "/predict", data=_chunks(body(context="x " * 15_000)), headers={"Content-Type": JSON}
    )
    assert response.status_code == 413
    assert "MAX_BODY_BYTES" in response.json()["error"]


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_body_size_cap_is_exact(target, chunked):
    def padded(size: int) -> bytes:
        data = body()
        return data[:-1] + b" " * (size - len(data)) + b"}"

    def send(data: bytes):
        return target.post(
            "/predict", data=_chunks(data) if chunked else data, headers={"Content-Type": JSON}
        )

    assert send(padded(MAX_BODY_BYTES)).status_code == 200
    assert send(padded(MAX_BODY_BYTES + 1)).status_code == 413
