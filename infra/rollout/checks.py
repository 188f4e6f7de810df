"""The rollout settings' own rules, for the settings package to report with every other problem."""

from __future__ import annotations

from infra.rollout import keys
from infra.rollout.revisions import is_revision_of
from infra.rollout.traffic import MAX_CANDIDATE_PERCENT, MODES

Problem = tuple[str, object, str]  # (key, value, what would be valid)


def rollout_problems(mode: str, serving: str, percent: int, previous: str, service: str) -> list[Problem]:
    problems: list[Problem] = []
    if mode not in MODES:
        return [(keys.ROLLOUT, mode, f"one of {', '.join(MODES)}")]
    for key, name in ((keys.SERVING_REVISION, serving), (keys.PREVIOUS_REVISION, previous)):
        if not name:
            continue
        if mode == "direct":
            problems.append(
                (key, name, "empty while `rollout: direct` (set rollout: gated to name revisions)")
            )
        elif not is_revision_of(service, name):
            problems.append((key, name, f"empty or a revision of {service}, like {service}-r0123456789ab"))
    if not 0 <= percent <= MAX_CANDIDATE_PERCENT:
        problems.append((keys.CANDIDATE_PERCENT, percent, f"a whole number 0…{MAX_CANDIDATE_PERCENT}"))
    elif percent and not serving:
        problems.append(
            (keys.CANDIDATE_PERCENT, percent, "0 unless servingRevision names the revision the rest stays on")
        )
    return problems
