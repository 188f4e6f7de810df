"""Slow clients cannot starve the server: probes and requests are answered whatever they do.

50 connections that send one byte and go quiet, and 50 that trickle a request a byte every
half second, against `python -m service` (gthread with 9 threads): the main loop buffers
them, so no thread waits on a client. The contract: /health answers within 1 s throughout,
and a real request still gets its answer.
"""

from __future__ import annotations

import pytest
import requests
from service_helpers import ServiceProcess

from bench.slow_clients import SlowClients, probe_latencies

pytestmark = pytest.mark.slow  # a real gunicorn server

PROBE_BOUND_S = 1.0  # a liveness probe's answer, the contract


def test_health_answers_within_a_second_under_100_slow_connections(tiny_model_dir, tmp_path):
    with ServiceProcess(tiny_model_dir, tmp_path / "service.log") as server:
        server.wait_ready()
        with SlowClients(server.port, silent=50, trickling=50, interval_s=0.5) as clients:
            assert clients.opened == 100
            latencies = probe_latencies(server.url, duration_s=6.0, every_s=0.1, timeout_s=5.0)
            answer = requests.post(
                server.url + "/predict",
                json={"question": "What am I?", "context": "Roses are red, violets are blue."},
                timeout=30,
            )
        assert answer.status_code == 200
        assert len(latencies) >= 10
        assert max(latencies) < PROBE_BOUND_S, sorted(latencies)[-5:]
