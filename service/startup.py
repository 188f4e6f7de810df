"""Where an instance's start-up time goes: the phases of its critical path, exec to ready.

A start is a chain of waits: the interpreter and gunicorn start (`exec`), the service and its
runtime import (`imports`), the model directory is read and checked against its manifest
(`verify`), the tokenizer and the graph are read and compiled for this CPU (`load`: ONNX
Runtime's session and OpenVINO's compile_model both read and compile in one call), one
inference warms the thread pools (`warmup`). Some of that work overlaps (imports run on a thread
while the settings are read; ONNX/OpenVINO models start loading while the worker imports the
app), so each phase is timed as the stretch of wall-clock the start spent waiting on it: the
time from the previous milestone to the one that ends it. The phases therefore add up to the
whole start, exactly: process start (the kernel's record of it) to ready.

The clock marks milestones in the gunicorn master (inherited through fork) and then in the
worker's own copy, held by its `ServiceState`; /ready, the start-up log line and the
`qa_startup_phase_seconds` gauge all read that copy. Beside the phases, `work()` holds how long
the overlapped pieces took on their own (`checksums`, `model_load`), so a user sees, for
instance, a model load hidden behind the worker's imports.
"""

from __future__ import annotations

import os
import threading
import time

EXEC, IMPORTS, VERIFY, LOAD, WARMUP = "exec", "imports", "verify", "load", "warmup"
PHASES = (EXEC, IMPORTS, VERIFY, LOAD, WARMUP)


def process_start_monotonic() -> float | None:
    """When this process started, on `time.monotonic()`'s clock, from /proc (Linux; None elsewhere).

    The kernel records a process's start in clock ticks since boot (field 22 of /proc/self/stat,
    kept across exec), on the clock CLOCK_BOOTTIME reads; the tick is 1/SC_CLK_TCK s (10 ms).
    """
    try:
        with open("/proc/self/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        ticks = int(fields[19])  # field 22 counted from 1; the split starts at field 3
        since_start = time.clock_gettime(time.CLOCK_BOOTTIME) - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return None
    return time.monotonic() - max(since_start, 0.0)


class StartupClock:
    """Milestones of one start; `phases()` turns them into seconds per phase."""

    def __init__(self, started: float | None = None) -> None:
        self.started = started if started is not None else process_start_monotonic()
        self._marks: list[tuple[str, float]] = []
        self._lock = threading.Lock()

    def mark(self, phase: str) -> None:
        """The start stopped waiting on `phase` now: the time since the last mark is its."""
        if phase not in PHASES:
            raise ValueError(f"unknown start-up phase {phase!r}: one of {', '.join(PHASES)}")
        with self._lock:
            self._marks.append((phase, time.monotonic()))

    def copy(self) -> StartupClock:
        """A clock with the milestones so far, marked on independently (one per app/worker)."""
        clone = StartupClock(self.started)
        with self._lock:
            clone._marks = list(self._marks)
        return clone

    def phases(self) -> dict[str, float]:
        """Seconds per phase, in PHASES order (each present, 0.0 when never waited on)."""
        with self._lock:
            marks = list(self._marks)
        seconds = dict.fromkeys(PHASES, 0.0)
        previous = self.started if self.started is not None else (marks[0][1] if marks else 0.0)
        for phase, at in marks:
            seconds[phase] += max(at - previous, 0.0)
            previous = max(previous, at)
        return seconds

    def total(self) -> float:
        """Process start to the last milestone: the sum of the phases."""
        return sum(self.phases().values())

    def wall_started(self) -> float | None:
        """The process start as a Unix time, for a client that timed the launch itself."""
        if self.started is None:
            return None
        return time.time() - (time.monotonic() - self.started)


# The master's milestones; every worker forks with them and continues on its own copy.
CLOCK = StartupClock()

# Seconds each piece of work took on its own, overlapped or not (the phases above count only
# what the start waited for): e.g. the model load that ran on a thread while the worker imported.
_work: dict[str, float] = {}
_work_lock = threading.Lock()


def record_work(name: str, seconds: float) -> None:
    with _work_lock:
        _work[name] = _work.get(name, 0.0) + seconds


def work() -> dict[str, float]:
    with _work_lock:
        return dict(_work)
