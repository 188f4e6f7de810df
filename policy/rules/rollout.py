"""Traffic splits of both platforms: well-formed, gated in prod, candidates only under their tag.

Cloud Run v2 lists them in `traffics` (type / revision / percent / tag), Knative in
`spec.traffic` (revisionName / latestRevision / percent / tag); both are read as one list here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

from infra.rollout.traffic import CANDIDATE_TAG, CLOUD_RUN_LATEST
from policy import tokens
from policy.rule import Level, Rule
from policy.rules.cloud_run_protection import is_prod
from policy.values import as_number, get, is_true, is_unknown

SERVICES = frozenset({tokens.CLOUD_RUN_SERVICE, tokens.KNATIVE_SERVICE})


def _entries(resource_type: str, inputs: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """{revision ("latest" for the latest), percent (None if malformed), tag} per target; None
    while the list, or anything in it, is unknown (a preview computes it from the image digest)."""
    knative = resource_type == tokens.KNATIVE_SERVICE
    raw = get(inputs, "spec.traffic" if knative else "traffics")
    if not isinstance(raw, list):
        return None
    entries = []
    for target in raw:
        if is_unknown(target) or (isinstance(target, Mapping) and any(map(is_unknown, target.values()))):
            return None
        if not isinstance(target, Mapping):
            continue
        if knative:
            name = target.get("revisionName")
            latest = is_true(target.get("latestRevision")) or not (isinstance(name, str) and name)
        else:
            name = target.get("revision")
            latest = target.get("type") in (None, CLOUD_RUN_LATEST)
        percent = target.get("percent")
        tag = target.get("tag")
        entries.append(
            {
                "revision": "latest" if latest else str(name),
                "percent": 0.0 if percent is None else as_number(percent),
                "tag": tag if isinstance(tag, str) else "",
            }
        )
    return entries


def _labels(resource_type: str, inputs: Mapping[str, Any]) -> Mapping[str, Any]:
    labels = get(inputs, "metadata.labels" if resource_type == tokens.KNATIVE_SERVICE else "labels")
    return labels if isinstance(labels, Mapping) else {}


def _well_formed(resource_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    entries = _entries(resource_type, inputs)
    if entries is None:
        return
    percents = [e["percent"] for e in entries]
    if entries and None not in percents and sum(percents) != 100:
        shares = ", ".join(f"{e['revision']} {p:g}" for e, p in zip(entries, percents, strict=True))
        yield f"traffic percentages sum to {sum(percents):g}, not 100 ({shares})"
    tags = Counter(e["tag"] for e in entries if e["tag"])
    for tag, count in sorted(tags.items()):
        if count > 1:
            yield f"tag {tag!r} is on {count} traffic targets"


def _gated_in_prod(resource_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    if not is_prod({"labels": _labels(resource_type, inputs)}):
        return
    entries = _entries(resource_type, inputs)
    if entries is None:
        return
    if not entries or any(e["revision"] == "latest" for e in entries):
        yield "a prod service sends traffic to whatever revision is latest (rollout: direct)"


def _candidate_tagged(resource_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    entries = _entries(resource_type, inputs)
    if entries is None:
        return
    shares = [(e["percent"] or 0.0, e) for e in entries]
    taking = [(p, e) for p, e in shares if p > 0]
    if len(taking) < 2:  # one target with traffic is the serving one
        return
    largest = max(taking, key=lambda pair: pair[0])[1]
    for percent, entry in taking:
        if entry is not largest and entry["tag"] != CANDIDATE_TAG:
            yield (
                f"{entry['revision']} takes {percent:g} % beside {largest['revision']} "
                f"without the tag {CANDIDATE_TAG!r}"
            )


RULES = [
    Rule(
        name="rollout-traffic-valid",
        level=Level.MANDATORY,
        what="A service's traffic targets add up to 100 percent and no tag is on two of them.",
        why=(
            "Both platforms reject a split that does not sum to 100 and a tag used twice, at deploy "
            "time and after the new revision was built; the render shows it first."
        ),
        fix="let the rollout settings (servingRevision, candidatePercent) write the traffic block",
        types=SERVICES,
        check=_well_formed,
    ),
    Rule(
        name="rollout-gated-prod",
        level=Level.MANDATORY,
        what=(
            "A service labelled stack=prod routes traffic to named revisions (rollout: gated), "
            "never to the latest."
        ),
        why=(
            "With traffic on the latest revision every deploy reaches all users at once, and going "
            "back needs another deploy; named revisions let a candidate prove itself first."
        ),
        fix="set the `rollout` stack setting to gated, and deploy with `make rollout STACK=prod`",
        types=SERVICES,
        check=_gated_in_prod,
    ),
    Rule(
        name="rollout-candidate-tagged",
        level=Level.MANDATORY,
        what="Besides the serving revision, a revision takes traffic only as the tagged `candidate`.",
        why=(
            "The tag gives the candidate its own URL, which the gate checks and a rollback drops; "
            "an untagged share is traffic nobody is watching."
        ),
        fix="split traffic with candidatePercent (it tags the new revision), not by hand",
        types=SERVICES,
        check=_candidate_tagged,
    ),
]
