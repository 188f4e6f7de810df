"""A canary step: soak at the step's share while probing the candidate's tag URL, then judge its
5xx ratio from a metrics source (Cloud Monitoring, or the probes themselves)."""

from __future__ import annotations

import time

from infra.rollout.gate import Endpoint, GateConfig, GateError, Verdict
from infra.rollout.metrics import MetricsSource, ProbeSource, error_ratio


def canary_step(
    candidate_url: str,
    revision: str,
    config: GateConfig,
    *,
    source: MetricsSource,
    soak_s: float,
    probes: ProbeSource | None = None,
    probe_interval_s: float = 1.0,
) -> Verdict:
    """Soak at this step's share, probing the tag URL, then judge the candidate's error ratio."""
    candidate = Endpoint.open("candidate", candidate_url, config)
    started = time.time()
    deadline = time.monotonic() + soak_s
    try:
        while True:
            for payload in config.payloads:
                try:
                    status = candidate.predict(payload).status_code
                except GateError:
                    status = 503  # what a front end answers when the revision cannot be reached
                if probes is not None:
                    probes.record(revision, status)
            if time.monotonic() >= deadline:
                break
            time.sleep(probe_interval_s)
    finally:
        candidate.session.close()
    counts = source.request_counts(revision, started, time.time())
    errors, total = error_ratio(counts)
    if not total:
        return Verdict(
            False, f"no requests counted for {revision} by {source.name} during the soak: cannot judge"
        )
    ratio = errors / total
    line = f"error ratio {errors}/{total} = {ratio:.1%} ({source.name}), budget {config.max_error_ratio:.1%}"
    return Verdict(ratio <= config.max_error_ratio, line, {"counts": dict(counts)})
