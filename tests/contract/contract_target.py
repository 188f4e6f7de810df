"""What the HTTP contract tests need to know about the server they are pointed at.

The same tests (tests/contract/test_contract_*.py) run against a local `python -m service`
process (tests/contract/conftest.py) and against each container image (tests/image/), so each
target is started with CONTRACT_ENV and describes what it serves.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests

# Request caps the cases are written against; every target's server gets them.
MAX_CONTEXT_CHARS = 5_000
MAX_BODY_BYTES = 20_000
CONTRACT_ENV = {"MAX_CONTEXT_CHARS": str(MAX_CONTEXT_CHARS), "MAX_BODY_BYTES": str(MAX_BODY_BYTES)}
TIMEOUT_S = 30


@dataclass(frozen=True)
class Target:
    url: str
    model_id: str
    revision: str
    runtime: str
    precision: str

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, self.url + path, timeout=TIMEOUT_S, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)
