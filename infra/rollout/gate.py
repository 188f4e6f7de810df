"""The gate: does the candidate revision, reached by its tag URL, deserve traffic?

Checks, in order, stopping at the first failure with one line that says why:
ready (and the expected model revision), golden answers, bad inputs → 4xx, latency against the
serving revision (interleaved, so both see the same machine noise), and no 5xx anywhere. The
canary steps (`canary`) then add the error ratio from a `metrics` source after each soak.

Requests go through the service's client (qaclient): identity tokens on private services,
percentiles. The latency decision is `judge_latency`, a function of the two revisions'
samples alone.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests

from qaclient.auth import auth_headers, resolve_token
from qaclient.payloads import DEFAULT_PAYLOAD
from qaclient.stats import median
from service import routes

LATENCY_BUDGET = 1.5  # candidate p50 ≤ budget × serving p50, unless the rollout says otherwise
GOLDEN_PAYLOADS: tuple[dict[str, str], ...] = (
    DEFAULT_PAYLOAD,
    {
        "context": "The Eiffel Tower was completed in 1889 for the World's Fair in Paris. "
        "It is 330 metres tall.",
        "question": "When was the Eiffel Tower completed?",
    },
    {
        "context": "Cloud Run scales container instances with the number of requests; Knative does the "
        "same on a Kubernetes cluster, and both can scale to zero when no requests arrive.",
        "question": "What can both do when no requests arrive?",
    },
)
# (what it is, method, body, content type) sent to the predict route: each must get a 4xx, never a 5xx.
BAD_REQUESTS: tuple[tuple[str, str, str, str], ...] = (
    ("malformed JSON", "POST", "{not json", "application/json"),
    ("missing question", "POST", json.dumps({"context": "a b c"}), "application/json"),
    ("wrong types", "POST", json.dumps({"context": 3, "question": []}), "application/json"),
    ("empty context", "POST", json.dumps({"context": "", "question": "q?"}), "application/json"),
    ("not JSON", "POST", "context=a", "text/plain"),
    ("wrong method", "GET", "", ""),
)


@dataclass(frozen=True)
class GateConfig:
    expected_model_revision: str
    # Expected spans: None asks the serving revision (same model); a golden file gives them
    # when the model itself changes on purpose.
    golden: Sequence[Mapping[str, Any]] | None = None
    payloads: Sequence[Mapping[str, str]] = GOLDEN_PAYLOADS
    latency_budget: float = LATENCY_BUDGET
    latency_rounds: int = 10  # interleaved rounds over the payloads
    max_error_ratio: float = 0.01
    ready_timeout_s: float = 120.0
    request_timeout_s: float = 30.0
    token: str | None = None  # identity token; else as qaclient.auth finds one


@dataclass(frozen=True)
class Verdict:
    passed: bool
    reason: str  # one line
    details: dict[str, Any] = field(default_factory=dict)


class GateError(Exception):
    """A check failed; the message is the one line the rollout prints."""


@dataclass
class Endpoint:
    """One revision's URL, with the responses seen from it."""

    name: str
    url: str
    headers: dict[str, str]
    timeout_s: float
    session: requests.Session = field(default_factory=requests.Session)
    server_errors: list[str] = field(default_factory=list)
    count: int = 0

    @classmethod
    def open(cls, name: str, url: str, config: GateConfig) -> Endpoint:
        token, _ = resolve_token(url, config.token)
        return cls(name, url.rstrip("/"), auth_headers(token), config.request_timeout_s)

    def call(self, method: str, path: str, body: str = "", content_type: str = "") -> requests.Response:
        headers = dict(self.headers)
        if content_type:
            headers["Content-Type"] = content_type
        try:
            data = body.encode() if body else None
            response = self.session.request(
                method, self.url + path, data=data, headers=headers, timeout=self.timeout_s
            )
        except requests.RequestException as exc:
            raise GateError(f"{self.name} unreachable at {self.url}: {type(exc).__name__}") from exc
        self.count += 1
        if response.status_code >= 500:
            self.server_errors.append(f"{response.status_code} on {method} {path}: {_error_text(response)}")
        return response

    def predict(self, payload: Mapping[str, Any]) -> requests.Response:
        # The route under the URL, whatever its path: behind the front door the URL is the gate's
        # path to a revision (`https://DOMAIN/_rollout/candidate/REGION`), not a predict URL.
        return self.call("POST", routes.PREDICT, json.dumps(payload), "application/json")


def _error_text(response: requests.Response, limit: int = 120) -> str:
    try:
        text = str(response.json().get("error", ""))
    except (ValueError, AttributeError):
        text = response.text
    return " ".join(text.split())[:limit]


def _span(answer: Mapping[str, Any]) -> tuple[int, int]:
    return int(answer["start"]), int(answer["end"])


def check_ready(candidate: Endpoint, config: GateConfig, sleep: Callable[[float], None] = time.sleep) -> dict:
    deadline = time.monotonic() + config.ready_timeout_s
    last = ""
    while True:
        try:
            response = candidate.session.get(
                candidate.url + routes.READY, headers=candidate.headers, timeout=config.request_timeout_s
            )
            if response.status_code == 200:
                break
            last = f"{response.status_code} ({_error_text(response)})"
        except requests.RequestException as exc:
            last = type(exc).__name__
        if time.monotonic() >= deadline:
            raise GateError(f"not ready: GET {routes.READY} answered {last} for {config.ready_timeout_s:g} s")
        sleep(min(1.0, config.ready_timeout_s / 10))
    body = response.json()
    revision = body.get("model_revision")
    if revision != config.expected_model_revision:
        expected = config.expected_model_revision
        raise GateError(f"wrong model: {routes.READY} reports revision {revision!r}, expected {expected!r}")
    return body


Expectation = tuple[Mapping[str, Any], tuple[int, int]]  # (golden request, its answer's span)


def expected_answers(serving: Endpoint, config: GateConfig) -> list[Expectation]:
    if config.golden is not None:
        return [(item, _span(item)) for item in config.golden]
    expected = []
    for payload in config.payloads:
        response = serving.predict(payload)
        if response.status_code != 200:
            status = response.status_code
            raise GateError(
                f"serving revision answered {status} to a golden request: nothing to compare with"
            )
        expected.append((payload, _span(response.json())))
    return expected


def check_golden(candidate: Endpoint, expected: Sequence[Expectation]) -> None:
    wrong = []
    for item, span in expected:
        payload = {"context": item["context"], "question": item["question"]}
        response = candidate.predict(payload)
        if response.status_code != 200:
            if response.status_code >= 500:
                return  # reported as a 5xx, the more telling reason
            status, text = response.status_code, _error_text(response)
            raise GateError(f"golden request {item['question']!r} answered {status}: {text}")
        got = _span(response.json())
        if got != span:
            wrong.append((item, got, span))
    if wrong:
        item, got, span = wrong[0]
        context = item["context"]
        raise GateError(
            f"wrong answers: {len(wrong)}/{len(expected)} golden requests differ "
            f"(first: {item['question']!r} got {context[got[0] : got[1]]!r}, "
            f"expected {context[span[0] : span[1]]!r})"
        )


def check_bad_inputs(candidate: Endpoint) -> None:
    for what, method, body, content_type in BAD_REQUESTS:
        status = candidate.call(method, routes.PREDICT, body, content_type).status_code
        if status < 400:  # a 5xx is recorded by the endpoint and reported as such
            raise GateError(f"bad input ({what}) answered {status}, expected a 4xx")


def _timed(endpoint: Endpoint, payload: Mapping[str, Any]) -> float:
    started = time.perf_counter()
    endpoint.predict(payload)
    return (time.perf_counter() - started) * 1000


def measure_latency(
    serving: Endpoint, candidate: Endpoint, config: GateConfig
) -> tuple[list[float], list[float]]:
    """ms of every timed request to each, alternating A B / B A so drift hits both alike."""
    times: dict[str, list[float]] = {"serving": [], "candidate": []}
    for payload in config.payloads:  # warm both (connection, caches) outside the measurement
        _timed(serving, payload), _timed(candidate, payload)
    for round_ in range(config.latency_rounds):
        for payload in config.payloads:
            pair = [("serving", serving), ("candidate", candidate)]
            for key, endpoint in pair if round_ % 2 == 0 else reversed(pair):
                times[key].append(_timed(endpoint, payload))
    return times["serving"], times["candidate"]


def judge_latency(
    serving_ms: Sequence[float], candidate_ms: Sequence[float], budget: float
) -> dict[str, float]:
    """The latency check on the two revisions' samples: the candidate's median may be at most
    `budget` × the serving revision's (medians: one stalled request does not decide)."""
    serving_p50, candidate_p50 = median(serving_ms), median(candidate_ms)
    if serving_p50 is None or candidate_p50 is None:
        raise GateError("no latency samples: the gate has no requests to time (no payloads?)")
    if candidate_p50 > budget * serving_p50:
        raise GateError(
            f"too slow: candidate p50 {candidate_p50:.1f} ms vs serving {serving_p50:.1f} ms "
            f"(budget {budget:g}×)"
        )
    return {"serving_p50_ms": serving_p50, "candidate_p50_ms": candidate_p50}


def check_latency(serving: Endpoint, candidate: Endpoint, config: GateConfig) -> dict[str, float]:
    return judge_latency(*measure_latency(serving, candidate, config), config.latency_budget)


def _no_server_errors(candidate: Endpoint) -> None:
    if candidate.server_errors:
        errors = candidate.server_errors
        raise GateError(f"5xx: {len(errors)} of {candidate.count} candidate responses, first {errors[0]}")


def run_gate(candidate_url: str, serving_url: str, config: GateConfig) -> Verdict:
    """Every check against the candidate's tag URL; the serving revision is the reference."""
    candidate = Endpoint.open("candidate", candidate_url, config)
    serving = Endpoint.open("serving revision", serving_url, config)
    details: dict[str, Any] = {}
    try:
        details["ready"] = check_ready(candidate, config)
        expected = expected_answers(serving, config)
        check_golden(candidate, expected)
        _no_server_errors(candidate)
        check_bad_inputs(candidate)
        _no_server_errors(candidate)
        details["latency"] = check_latency(serving, candidate, config)
        _no_server_errors(candidate)
    except GateError as failure:
        return Verdict(False, str(failure), details)
    finally:
        candidate.session.close()
        serving.session.close()
    latency = details["latency"]
    return Verdict(
        True,
        f"gate passed: {candidate.count} requests, no 5xx, p50 {latency['candidate_p50_ms']:.1f} ms "
        f"vs {latency['serving_p50_ms']:.1f} ms",
        details,
    )
