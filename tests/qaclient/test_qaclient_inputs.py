"""Payload files and identity tokens."""

import json

import pytest

from qaclient.auth import TOKEN_ENV, auth_headers, resolve_token
from qaclient.payloads import DEFAULT_PAYLOAD, PayloadError, load_payloads
from qaclient.urls import is_local


def test_payload_forms(tmp_path):
    one = tmp_path / "one.json"
    one.write_text(json.dumps({"context": "c", "question": "q"}))
    many = tmp_path / "many.json"
    many.write_text(json.dumps([{"context": "a", "question": "q"}, {"context": "b", "question": "q"}]))
    lines = tmp_path / "many.jsonl"
    lines.write_text('{"context": "a", "question": "q"}\n\n{"context": "b", "question": "q"}\n')
    assert load_payloads(None) == [DEFAULT_PAYLOAD]
    assert load_payloads(one) == [{"context": "c", "question": "q"}]
    assert [p["context"] for p in load_payloads(many)] == ["a", "b"]
    assert [p["context"] for p in load_payloads(lines)] == ["a", "b"]


@pytest.mark.parametrize(
    ("text", "message"),
    [("[1, 2]", "expected a JSON object"), ("[]", "expected"), ("{oops", "not JSON")],
)
def test_bad_payload_files(tmp_path, text, message):
    path = tmp_path / "p.json"
    path.write_text(text)
    with pytest.raises(PayloadError, match=message):
        load_payloads(path)
    with pytest.raises(PayloadError, match="cannot read"):
        load_payloads(tmp_path / "missing.json")


def test_token_precedence():
    never = lambda: pytest.fail("gcloud must not be asked")  # noqa: E731
    url = "https://qa-xyz.a.run.app"
    assert resolve_token(url, "t1", env={TOKEN_ENV: "t2"}, gcloud=never) == ("t1", "--token")
    assert resolve_token(url, None, env={TOKEN_ENV: "t2"}, gcloud=never) == ("t2", TOKEN_ENV)
    assert resolve_token(url, None, env={}, gcloud=lambda: "t3")[0] == "t3"
    assert resolve_token(url, None, env={}, gcloud=lambda: None) == (None, "none")
    assert resolve_token(url, None, env={}, use_gcloud=False, gcloud=never) == (None, "none")
    # A local service needs no token: gcloud is not even asked.
    assert resolve_token("http://127.0.0.1:8080", None, env={}, gcloud=never) == (None, "none")


def test_local_hosts_and_header():
    assert is_local("http://localhost:8080/predict")
    assert is_local("http://127.0.0.2:1")
    assert not is_local("https://qa.a.run.app")
    assert auth_headers("abc") == {"Authorization": "Bearer abc"}
    assert auth_headers(None) == {}
