from bench import records as rec


def test_csv_round_trip_keeps_types_and_missing_values(tmp_path):
    rows = [
        rec.RequestRecord(
            seq=0,
            scheduled_s=0.0,
            outcome=rec.OK,
            sent_s=0.001,
            latency_ms=12.5,
            status=200,
            instance_id="a1",
            instance_request_count=1,
            server_total_ms=10.0,
            server_inference_ms=8.0,
            sent_epoch=1.7e9,
        ),
        rec.RequestRecord(seq=1, scheduled_s=0.1, outcome=rec.OVERFLOW, error="full, really"),
        rec.RequestRecord(
            seq=2,
            scheduled_s=0.2,
            outcome=rec.HTTP_ERROR,
            sent_s=0.2,
            latency_ms=3.0,
            status=503,
            error='{"error": "busy"}',
        ),
    ]
    path = tmp_path / "requests.csv"
    rec.write_csv(path, rows)
    assert rec.read_csv(path) == rows


def test_overhead_and_tally_key():
    ok = rec.RequestRecord(
        seq=0, scheduled_s=0, outcome=rec.OK, latency_ms=50.0, status=200, server_total_ms=20.0
    )
    assert ok.overhead_ms == 30.0
    assert ok.tally_key == "200"
    lost = rec.RequestRecord(seq=1, scheduled_s=0, outcome=rec.TIMEOUT, latency_ms=1000.0)
    assert lost.overhead_ms is None
    assert lost.tally_key == "timeout"
