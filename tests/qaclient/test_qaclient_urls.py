"""The service's URLs from the one a user gives."""

from __future__ import annotations

import pytest

from qaclient.urls import is_local, predict_url, route_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://qa-abc.a.run.app", "https://qa-abc.a.run.app/predict"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080/predict"),
        ("http://h:1/v1/answer?x=1", "http://h:1/v1/answer?x=1"),
    ],
)
def test_a_bare_service_url_means_its_predict_route(url, expected):
    assert predict_url(url) == expected


@pytest.mark.parametrize("url", ["qa.a.run.app", "ftp://h/predict", "https://"])
def test_anything_but_an_http_url_is_refused(url):
    with pytest.raises(ValueError, match="not an http"):
        predict_url(url)


def test_a_route_on_the_same_service_whatever_path_was_given():
    assert route_url("https://qa.a.run.app/predict?x=1", "/ready") == "https://qa.a.run.app/ready"
    assert route_url("http://127.0.0.1:8080", "/ready") == "http://127.0.0.1:8080/ready"


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://localhost:8080/predict", True),
        ("http://127.0.0.2:1", True),
        ("http://[::1]:8080", True),
        ("http://svc.localhost", True),
        ("https://qa.a.run.app", False),
        ("http://10.0.0.7:8080", False),
    ],
)
def test_local_hosts(url, local):
    assert is_local(url) is local
