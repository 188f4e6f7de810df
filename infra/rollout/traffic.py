"""Rollout phases as traffic: which revision takes what share, under which tag.

The phase is stack config (`rollout`, `servingRevision`, `candidatePercent`, `previousRevision`),
so each phase is a reviewable render. With `gated`:

- `servingRevision` empty or equal to the new revision: the new one takes 100 %; the revision it
  replaced keeps the tag `previous` at 0 % (one-step rollback) while `previousRevision` names it.
- `servingRevision` another revision: that one keeps 100 % (less `candidatePercent`), the new one
  is tagged `candidate` at 0 % (or `candidatePercent`) so the gate can reach it by its tag URL.

`direct` keeps the platforms' own behaviour: the latest revision takes everything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

MODES = ("direct", "gated")
CANDIDATE_TAG = "candidate"
PREVIOUS_TAG = "previous"
# 100 is not a canary step but a promotion: servingRevision becomes the new revision.
MAX_CANDIDATE_PERCENT = 99
CLOUD_RUN_LATEST = "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST"
CLOUD_RUN_REVISION = "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION"


@dataclass(frozen=True)
class Target:
    revision: str  # "" = whatever revision is latest
    percent: int
    tag: str = ""


@dataclass(frozen=True)
class Phase:
    name: str  # "direct", "serving" (the new revision serves) or "candidate"
    targets: tuple[Target, ...]
    serving: str  # the revision with the largest share (under direct: the latest, `new`)
    candidate: str = ""  # the tagged new revision in the candidate phase

    def _tagged(self, tag: str) -> Target | None:
        return next((t for t in self.targets if t.tag == tag), None)

    @property
    def previous(self) -> str:
        target = self._tagged(PREVIOUS_TAG)
        return target.revision if target else ""

    @property
    def candidate_percent(self) -> int:
        target = self._tagged(CANDIDATE_TAG)
        return target.percent if target else 0


@dataclass(frozen=True)
class RolloutArgs:
    """A service component's rollout inputs, as the stack settings give them."""

    mode: str = "direct"
    serving_revision: str = ""
    candidate_percent: int = 0
    previous_revision: str = ""
    # Several regions: the first `regions` take the phase (0: all); this service is `region_index`.
    regions: int = 0
    region_index: int = 0

    def phase(self, new: str) -> Phase:
        if self.regions and self.region_index >= self.regions:
            return held(self.mode, new, self.serving_revision, self.previous_revision)
        return phase(self.mode, new, self.serving_revision, self.candidate_percent, self.previous_revision)


def held(mode: str, new: str, serving: str = "", previous: str = "") -> Phase:
    """A region the phase has not reached: the revision that served before takes it all — the
    serving one while the first regions try a candidate, the previous one once they promoted
    the new revision. The new revision exists there too (same template), with no traffic and no
    tag. Nothing served before (a first deploy): the phase itself."""
    before = serving if serving not in ("", new) else previous if previous != new else ""
    if mode != "gated" or not before:
        return phase(mode, new, serving, 0, previous)
    return Phase("held", (Target(before, 100),), serving=before)


def phase(mode: str, new: str, serving: str = "", candidate_percent: int = 0, previous: str = "") -> Phase:
    """The phase the stack config describes, for the revision the template now makes (`new`)."""
    if mode not in MODES:
        raise ValueError(f"rollout mode {mode!r}: expected one of {', '.join(MODES)}")
    if not 0 <= candidate_percent <= MAX_CANDIDATE_PERCENT:
        raise ValueError(f"candidate percent {candidate_percent}: expected 0…{MAX_CANDIDATE_PERCENT}")
    if mode == "direct":
        return Phase("direct", (Target("", 100),), serving=new)
    if serving in ("", new):
        targets = [Target(new, 100)]
        if previous and previous != new:
            targets.append(Target(previous, 0, PREVIOUS_TAG))
        return Phase("serving", tuple(targets), serving=new)
    targets = [Target(serving, 100 - candidate_percent), Target(new, candidate_percent, CANDIDATE_TAG)]
    if previous and previous not in (serving, new):
        targets.append(Target(previous, 0, PREVIOUS_TAG))
    return Phase("candidate", tuple(targets), serving=serving, candidate=new)


def cloud_run_traffic(targets: Iterable[Target]) -> list[dict[str, Any]]:
    """`gcp.cloudrunv2.Service.traffics` entries."""
    blocks = []
    for target in targets:
        block: dict[str, Any] = {"percent": target.percent}
        if target.revision:
            block = {"type": CLOUD_RUN_REVISION, "revision": target.revision, **block}
        else:
            block = {"type": CLOUD_RUN_LATEST, **block}
        if target.tag:
            block["tag"] = target.tag
        blocks.append(block)
    return blocks


def knative_traffic(targets: Iterable[Target]) -> list[dict[str, Any]]:
    """`serving.knative.dev/v1` Service `spec.traffic` entries."""
    blocks = []
    for target in targets:
        if target.revision:
            block: dict[str, Any] = {
                "revisionName": target.revision,
                "latestRevision": False,
                "percent": target.percent,
            }
        else:
            block = {"latestRevision": True, "percent": target.percent}
        if target.tag:
            block["tag"] = target.tag
        blocks.append(block)
    return blocks


def knative_tag_host(tag: str, service: str, namespace: str, domain: str) -> str:
    """Knative's default tag template: `TAG-SERVICE.NAMESPACE.DOMAIN`."""
    return f"{tag}-{service}.{namespace}.{domain}"


def tag_url(statuses: Iterable[Mapping[str, Any]] | None, tag: str, url_key: str = "uri") -> str:
    """The URL the platform reports for `tag` in its traffic status ("" while there is none).

    Cloud Run v2 reports `trafficStatuses[].uri`; Knative `status.traffic[].url`.
    """
    for status in statuses or ():
        if status.get("tag") == tag:  # pulumi output types are dicts too
            return status.get(url_key) or ""
    return ""
