"""Fixtures for the benchmark harness tests: stub endpoints with known behaviour."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from bench_stub import StubServer


@pytest.fixture
def stub_server() -> Iterator[Callable[..., StubServer]]:
    """Factory: `stub_server(instances=2, cold_delay_ms=300)` → a running StubServer."""
    with ExitStack() as stack:
        yield lambda **kwargs: stack.enter_context(StubServer(**kwargs))


@pytest.fixture
def unused_port() -> int:
    """A local port nothing listens on (connections to it are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
