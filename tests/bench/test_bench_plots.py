"""Plots are written headless, as real PNGs, whatever the run looked like."""

import pytest

from bench import plots
from bench import records as rec
from bench.report import build_report

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run_records(n=60, instances=("a", "b"), failures=True):
    rows = []
    for i in range(n):
        inst = instances[i % len(instances)] if instances else ""
        count = i // len(instances) + 1 if instances else None
        status = 503 if failures and i % 17 == 5 else 200
        rows.append(
            rec.RequestRecord(
                seq=i,
                scheduled_s=i * 0.1,
                sent_s=i * 0.1,
                latency_ms=20 + (i % 7) * 3 + (800 if count == 1 else 0),
                status=status,
                outcome=rec.OK if status == 200 else rec.HTTP_ERROR,
                instance_id=inst,
                instance_request_count=count,
                server_total_ms=15.0,
                server_inference_ms=12.0,
            )
        )
    return rows


def assert_png(path):
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC)
    assert len(data) > 20_000  # axes, points and text, not an empty canvas


ALL_FAILED = [rec.RequestRecord(seq=0, scheduled_s=0, sent_s=0, outcome=rec.CONNECTION_ERROR, latency_ms=1.0)]


@pytest.mark.slow
@pytest.mark.parametrize(
    "rows",
    [run_records(), run_records(instances=(), failures=False), ALL_FAILED],
    ids=["two-instances", "no-instance-headers", "all-failed"],
)
def test_plots_are_valid_pngs(tmp_path, rows):
    report = build_report(rows, {"url": "http://x/predict", "rps": 10, "duration_s": 6})
    paths = plots.write_plots(rows, report, tmp_path / "out")
    assert [p.name for p in paths] == [plots.TIMELINE, plots.DISTRIBUTION]
    for path in paths:
        assert_png(path)


def test_instance_counts_per_bucket():
    late = rec.RequestRecord(
        seq=99,
        scheduled_s=1.2,
        sent_s=1.2,
        outcome=rec.OK,
        status=200,
        latency_ms=5,
        instance_id="b",
        instance_request_count=1,
    )
    rows = [*run_records(n=20, instances=("a",)), late]
    starts, seen, active = plots.instance_counts(rows, width_s=0.5, span_s=2.0)
    assert starts == [0.0, 0.5, 1.0, 1.5]
    assert seen == [1, 1, 2, 2]  # b first answers in the bucket starting at 1.0 s
    assert active == [1, 1, 2, 1]


@pytest.mark.parametrize(("span", "width"), [(3, 0.5), (20, 0.5), (60, 2), (600, 15), (7200, 300)])
def test_bucket_width(span, width):
    assert plots.bucket_width(span) == width
