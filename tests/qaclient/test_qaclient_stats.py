import pytest

from qaclient.stats import percentile, summarize


@pytest.mark.parametrize(
    ("p", "expected"),
    # Nearest rank on [15, 20, 35, 40, 50]: rank = ceil(p/100 * 5).
    [(0, 15), (5, 15), (20, 15), (30, 20), (40, 20), (50, 35), (99, 50), (100, 50)],
)
def test_nearest_rank_by_hand(p, expected):
    assert percentile([50, 15, 40, 35, 20], p) == expected


def test_ranks_are_exact_where_floats_are_not():
    # 0.9 * 10 = 9.000000000000002 in floats; ceil of that would pick the 10th value.
    assert percentile(list(range(1, 11)), 90) == 9
    assert percentile(list(range(1, 101)), 99) == 99
    assert percentile(list(range(1, 1001)), 99.9) == 999
    assert percentile(list(range(1, 101)), 99.5) == 100  # rank ceil(99.5) = 100


def test_single_value_and_empty():
    assert percentile([7.5], 50) == 7.5
    assert percentile([], 50) is None


@pytest.mark.parametrize("p", [-1, 100.5])
def test_out_of_range_percentile(p):
    with pytest.raises(ValueError, match="0…100"):
        percentile([1.0], p)


def test_summary_skips_missing_values():
    s = summarize([10.0, None, 30.0, 20.0, None, 40.0])
    assert s == {"count": 4, "mean": 25.0, "min": 10.0, "p50": 20.0, "p90": 40.0, "p99": 40.0, "max": 40.0}
    assert summarize([])["p50"] is None
