"""Where a measured start went: the service's own phases (GET /ready) placed on the bench's clock.

The bench times launch (`Popen`, or `podman run`) → first 200 from POST /predict. The service
reports, in /ready, its phases from its process start to ready (service/startup.py) and when
that process started, as a Unix time. Together they split the bench's total into:

    before_exec   launch → the service's process exists (container set-up; ~0 for a process)
    exec … warmup the service's phases (service/startup.PHASES)
    first_answer  ready → the bench's first 200 (the answer itself, plus up to one poll interval)

`accounted` is the share of the total that the service's phases and `before_exec` explain; the
rest is `first_answer`. Both clocks are this host's: a container shares its kernel's clocks.
The process start is known to the kernel's tick (10 ms), so `before_exec` is good to ±10 ms.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence

from service.startup import PHASES

BEFORE, AFTER = "before_exec", "first_answer"
COLUMNS = (BEFORE, *PHASES, AFTER)


def split(total_s: float, launched_unix: float, ready: Mapping) -> dict[str, float] | None:
    """The total split into COLUMNS (they add up to `total_s`), or None if /ready has no phases."""
    phases, started = ready.get("startup_phases_s"), ready.get("process_started_unix")
    if not isinstance(phases, Mapping) or started is None:
        return None
    out = {BEFORE: max(float(started) - launched_unix, 0.0)}
    out.update({name: float(phases.get(name, 0.0)) for name in PHASES})
    out[AFTER] = total_s - sum(out.values())
    return {name: round(seconds, 4) for name, seconds in out.items()}


def medians(rows: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Median of each column over the runs that reported phases."""
    return {name: round(statistics.median(row[name] for row in rows), 4) for name in COLUMNS} if rows else {}


def markdown_table(rows: Sequence[Mapping[str, float]], totals: Sequence[float]) -> str:
    """Medians per phase, with each one's share of the median total."""
    if not rows:
        return "The service reported no start-up phases (an older image?).\n"
    med, total = medians(rows), statistics.median(totals)
    head = "| " + " | ".join(COLUMNS) + " | total |\n|" + "---|" * (len(COLUMNS) + 1) + "\n"
    cells = " | ".join(f"{med[name]:.3f} s ({med[name] / total:.0%})" for name in COLUMNS)
    title = f"Median of {len(rows)} run(s), seconds (share of the median total):"
    return f"{title}\n\n{head}| {cells} | {total:.3f} s |\n"
