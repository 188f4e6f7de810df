"""The load generator against stub endpoints whose behaviour is known request by request.

Timing-sensitive checks use bounds several times wider than the behaviour they guard
against (e.g. "sent within 0.3 s of schedule" where serial sending would be 0.4 s per
request late), so a loaded 2-core machine does not make them flaky.
"""

from collections import Counter

import pytest

from bench import records as rec
from bench.load import LoadConfig, arrival_offsets, run_load
from bench.report import build_report

Q = {"context": "Roses are red.", "question": "What is red?"}


def payload(**extra):
    return {**Q, **extra}


def test_closed_loop_counts_statuses_and_server_percentiles_exactly(stub_server):
    stub = stub_server()
    bodies = [payload(delay_ms=d) for d in (10, 20, 30, 40, 50)]
    bodies += [payload(status=503, delay_ms=5), payload(status=429)]
    result = run_load(
        LoadConfig(url=stub.url, duration_s=30, concurrency=2, max_requests=14, payloads=bodies),
        progress=False,
    )
    assert [r.seq for r in result.records] == list(range(14))
    # request i carries body i mod 7: each body went out exactly twice
    assert Counter(b.get("delay_ms", 0) for b in stub.received) == Counter(
        {10: 2, 20: 2, 30: 2, 40: 2, 50: 2, 5: 2, 0: 2}
    )
    report = build_report(result.records, {"duration_s": 30})
    assert report["status_counts"] == {"200": 10, "429": 2, "503": 2}
    assert report["requests"]["ok"] == 10
    assert report["requests"]["http_error"] == 2 + 2
    # Server totals of the ok requests: 10,10,20,20,…,50,50. Nearest rank over 10 values:
    # p50 → rank 5 → 30; p90 → rank 9 → 50; p99 → rank 10 → 50.
    assert report["server_total_ms"] == {
        "count": 10,
        "mean": 30.0,
        "min": 10.0,
        "p50": 30.0,
        "p90": 50.0,
        "p99": 50.0,
        "max": 50.0,
    }
    assert report["server_inference_ms"]["p50"] == 24.0  # the stub reports 80 % of total
    for r in result.records:
        assert r.latency_ms >= (r.server_total_ms or 0)  # client time includes the server's
    errors = {r.error for r in result.records if r.outcome == rec.HTTP_ERROR}
    assert errors == {"stub status 503", "stub status 429"}


@pytest.mark.slow
def test_open_loop_sends_on_schedule_even_when_the_server_is_slow(stub_server):
    stub = stub_server(default_delay_ms=400)
    result = run_load(LoadConfig(url=stub.url, duration_s=1.0, rps=10), progress=False)
    assert [r.scheduled_s for r in result.records] == [i / 10 for i in range(10)]
    assert all(r.outcome == rec.OK for r in result.records)
    # Serial sending would put request i about 0.4·i s late; on schedule it is milliseconds.
    lags = [r.sent_s - r.scheduled_s for r in result.records]
    assert max(lags) < 0.3
    assert stub.max_in_flight >= 3  # 400 ms answers, one request every 100 ms


@pytest.mark.slow
def test_open_loop_counts_overflow_and_cancels_at_the_hard_end(stub_server):
    stub = stub_server(default_delay_ms=5000)
    result = run_load(
        LoadConfig(url=stub.url, duration_s=1.0, rps=20, max_outstanding=4, grace_s=0.5),
        progress=False,
    )
    outcomes = Counter(r.outcome for r in result.records)
    assert outcomes == {rec.OVERFLOW: 16, rec.CANCELLED: 4}
    assert [r.seq for r in result.records if r.outcome == rec.CANCELLED] == [0, 1, 2, 3]
    assert all(r.sent_s is None for r in result.records if r.outcome == rec.OVERFLOW)
    # Stopped at duration + grace (1.5 s), not when the 5 s answers would have come.
    assert result.wall_s < 4.0


def test_closed_loop_stops_sending_at_the_deadline(stub_server):
    stub = stub_server(default_delay_ms=50)
    result = run_load(LoadConfig(url=stub.url, duration_s=0.8, concurrency=2), progress=False)
    assert len(result.records) >= 4
    assert all(r.outcome == rec.OK for r in result.records)
    assert max(r.sent_s for r in result.records) < 0.8 + 0.05
    assert result.wall_s < 3.0


def test_closed_loop_cancels_requests_still_in_flight_after_the_grace(stub_server):
    stub = stub_server(default_delay_ms=5000)
    result = run_load(LoadConfig(url=stub.url, duration_s=0.3, concurrency=2, grace_s=0.3), progress=False)
    assert [r.outcome for r in result.records] == [rec.CANCELLED, rec.CANCELLED]
    assert result.wall_s < 4.0


def test_max_requests_ends_an_open_loop_run_early(stub_server):
    stub = stub_server()
    result = run_load(LoadConfig(url=stub.url, duration_s=20, rps=50, max_requests=7), progress=False)
    assert len(result.records) == 7
    assert result.wall_s < 10  # not the 20 s duration


def test_timeout_and_connection_error_are_recorded(stub_server, unused_port):
    stub = stub_server(default_delay_ms=1000)
    slow = run_load(
        LoadConfig(url=stub.url, duration_s=0.1, rps=10, timeout_s=0.2, grace_s=3), progress=False
    )
    assert [r.outcome for r in slow.records] == [rec.TIMEOUT]
    assert slow.records[0].status is None
    refused = run_load(
        LoadConfig(url=f"http://127.0.0.1:{unused_port}", duration_s=0.1, rps=10), progress=False
    )
    assert [r.outcome for r in refused.records] == [rec.CONNECTION_ERROR]
    report = build_report(refused.records)
    assert report["requests"]["answered"] == 0
    assert report["status_counts"] == {"connection_error": 1}


def test_headers_such_as_the_identity_token_are_sent(stub_server):
    stub = stub_server()
    run_load(
        LoadConfig(
            url=stub.url, duration_s=5, concurrency=1, max_requests=2, headers={"Authorization": "Bearer abc"}
        ),
        progress=False,
    )
    assert [r["_auth"] for r in stub.received] == ["Bearer abc", "Bearer abc"]


def test_poisson_arrivals_are_reproducible_and_bounded():
    a = arrival_offsets(5, 10, "poisson", seed=1)
    assert a == arrival_offsets(5, 10, "poisson", seed=1)
    assert a != arrival_offsets(5, 10, "poisson", seed=2)
    assert a[0] == 0.0 and all(t < 10 for t in a)
    assert 20 < len(a) < 80  # 50 expected; far outside this means the rate is wrong
    assert arrival_offsets(4, 1) == [0.0, 0.25, 0.5, 0.75]
    assert arrival_offsets(4, 10, limit=3) == [0.0, 0.25, 0.5]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rps": 1, "concurrency": 1}, "exactly one"),
        ({}, "exactly one"),
        ({"rps": 0}, "rps must be > 0"),
        ({"concurrency": 0}, "concurrency"),
        ({"rps": 1, "max_outstanding": 0}, "max-outstanding"),
        ({"rps": 1, "arrivals": "bursty"}, "arrivals"),
        ({"rps": 1, "url": "ftp://x"}, "not an http"),
        ({"rps": 1, "url": "localhost:8080"}, "not an http"),
    ],
)
def test_config_rejects_nonsense(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LoadConfig(**{"url": "http://x", "duration_s": 1, **kwargs})
