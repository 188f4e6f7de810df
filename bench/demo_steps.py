"""What `python -m bench demo` did, told back to the user step by step, and its one question.

The question is the load test's own body (qaclient/payloads.py): one source for the example the
demo asks and the load then repeats. A generated model has random weights, so its answer is an
arbitrary span of the context; the demo says so rather than let it pass for a real answer.
"""

from __future__ import annotations

import json

import requests

from qaclient.payloads import DEFAULT_PAYLOAD
from qaclient.urls import predict_url


class Steps:
    """Numbered lines of what was done, printed as a markdown list after the report."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, line: str) -> None:
        self.lines.append(line)

    def markdown(self) -> str:
        numbered = [f"{n}. {line}" for n, line in enumerate(self.lines, 1)]
        return "\n".join(["", "## What the demo did", "", *numbered, ""])


def ask(url: str, payload: dict | None = None, timeout_s: float = 30.0) -> str:
    """POST one question to the service at `url`; one line saying what was asked and what came back."""
    body = dict(payload or DEFAULT_PAYLOAD)
    asked = f"asked {json.dumps(body['question'])} about {json.dumps(body['context'])}"
    try:
        response = requests.post(predict_url(url), json=body, timeout=timeout_s)
    except requests.RequestException as exc:
        return f"{asked}: no answer ({type(exc).__name__})"
    if response.status_code != 200:
        return f"{asked}: HTTP {response.status_code} {response.text.strip()}"
    answer = response.json()
    return (
        f"{asked}: answered {json.dumps(answer['answer'])} (score {answer['score']:.3g}, characters "
        f"{answer['start']}–{answer['end']}; random weights: an arbitrary span)"
    )
