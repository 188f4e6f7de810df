import pytest

from bench.headers import instance_fields, parse_count, parse_server_timing, timing_params


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("inference;dur=12.5, total;dur=15", {"inference": 12.5, "total": 15.0}),
        ('total;desc="app";dur=3.25', {"total": 3.25}),
        ('Total;dur="7"', {"total": 7.0}),
        ("cache, db;dur=1e1", {"db": 10.0}),  # metrics without a duration are skipped
        ("inference;dur=abc, total;dur=", {}),
        ("", {}),
        (None, {}),
    ],
)
def test_parse_server_timing(value, expected):
    assert parse_server_timing(value) == expected


def test_instance_fields_from_headers():
    fields = instance_fields(
        {
            "X-Instance-Id": "ab12",
            "X-Instance-Request-Count": "3",
            "X-Instance-Ready-Age-Ms": "1520.5",
            "X-Instance-Region": "europe-west4",
            "Server-Timing": "inference;dur=9, queue;dur=1.5, total;dur=11.5",
        }
    )
    assert fields == {
        "instance_id": "ab12",
        "instance_request_count": 3,
        "instance_ready_age_ms": 1520.5,
        "instance_region": "europe-west4",
        "server_total_ms": 11.5,
        "server_inference_ms": 9.0,
        "server_queue_ms": 1.5,
    }
    assert instance_fields({}) == {
        "instance_id": "",
        "instance_request_count": None,
        "instance_ready_age_ms": None,
        "instance_region": "",
        "server_total_ms": None,
        "server_inference_ms": None,
        "server_queue_ms": None,
    }
    assert instance_fields({"X-Instance-Ready-Age-Ms": "soon"})["instance_ready_age_ms"] is None


def test_parse_count_tolerates_garbage():
    assert parse_count("12") == 12
    assert parse_count("x") is None
    assert parse_count(None) is None


def test_timing_params_of_a_batched_request():
    header = "queue;dur=0.1, batch;dur=2.5;size=3;windows=4, inference;dur=9, total;dur=12"
    assert timing_params(header, "batch") == {"size": "3", "windows": "4"}
    assert parse_server_timing(header)["batch"] == 2.5  # the duration parser is not confused
    assert timing_params(header, "inference") == {}
    assert timing_params(header, "missing") == {}
    assert timing_params(None, "batch") == {}
