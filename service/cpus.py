"""How many CPUs this process may really use.

`os.cpu_count()` reports the host's cores. Cloud Run and Kubernetes limit a container with a
CFS quota (cgroup `cpu.max`, or `cpu.cfs_quota_us` on cgroup v1) and sometimes an affinity
mask; starting more torch threads than that only adds throttling and context switches.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip()
    except OSError:
        return None


def cgroup_cpu_limit(root: Path = CGROUP_ROOT) -> float | None:
    """CPUs allowed by the cgroup quota (e.g. 2.0), or None when unlimited or unknown."""
    # cgroup v2: "max 100000" (unlimited) or "<quota> <period>".
    text = _read(root / "cpu.max")
    if text:
        quota, _, period = text.partition(" ")
        if quota != "max" and period:
            try:
                return int(quota) / int(period)
            except (ValueError, ZeroDivisionError):
                return None
        return None
    # cgroup v1: quota is -1 when unlimited.
    quota_text = _read(root / "cpu" / "cpu.cfs_quota_us") or _read(root / "cpu.cfs_quota_us")
    period_text = _read(root / "cpu" / "cpu.cfs_period_us") or _read(root / "cpu.cfs_period_us")
    try:
        quota, period = int(quota_text or "-1"), int(period_text or "0")
    except ValueError:
        return None
    if quota <= 0 or period <= 0:
        return None
    return quota / period


def available_cpus(root: Path = CGROUP_ROOT) -> int:
    """min(affinity mask, cgroup quota), at least 1.

    A fractional quota is rounded down (1.5 CPUs -> 1 thread): a second thread would spend
    its time throttled, which is worse for latency than leaving the half CPU idle.
    """
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        count = os.cpu_count() or 1
    limit = cgroup_cpu_limit(root)
    if limit is not None:
        count = min(count, math.floor(limit))
    return max(1, count)
