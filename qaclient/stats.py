"""Percentiles and summaries, computed one documented way.

Percentiles use the **nearest-rank** method: the p-th percentile of n sorted values is the
value at rank ⌈p/100 · n⌉ (1-based), so it is always a latency that was actually observed,
p100 is the maximum, and p50 of [15, 20, 35, 40, 50] is 35. Ranks are computed with exact
fractions so that e.g. p90 of 10 values is the 9th, not the 10th (0.9 · 10 is not 9.0 in
binary floating point).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from fractions import Fraction

PERCENTILE_METHOD = "nearest-rank: the value at 1-based rank ceil(p/100 * n) of the sorted values"
SUMMARY_PERCENTILES = (50, 90, 99)


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile of `values` (need not be sorted); None when empty."""
    if not 0 <= p <= 100:
        raise ValueError(f"percentile must be within 0…100, got {p}")
    if not values:
        return None
    ordered = sorted(values)
    rank = math.ceil(Fraction(str(p)) * len(ordered) / 100)
    return ordered[max(rank, 1) - 1]


def summarize(values: Iterable[float | None]) -> dict[str, float | int | None]:
    """count, mean, min, p50, p90, p99, max of the non-missing values."""
    present = [v for v in values if v is not None]
    summary: dict[str, float | int | None] = {"count": len(present)}
    summary["mean"] = sum(present) / len(present) if present else None
    summary["min"] = min(present) if present else None
    for p in SUMMARY_PERCENTILES:
        summary[f"p{p}"] = percentile(present, p)
    summary["max"] = max(present) if present else None
    return summary


def median(values: Sequence[float]) -> float | None:
    return percentile(values, 50)
