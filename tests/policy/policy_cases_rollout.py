"""Passing and failing fixtures for the rollout rules, on both platforms' traffic blocks."""

from __future__ import annotations

from policy_helpers import CLOUD_RUN, KNATIVE, KNATIVE_SERVICE, SERVICE, case, res

REVISION = "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION"
PROD = {"labels.stack": "prod"}
KNATIVE_PROD = {"metadata.labels.stack": "prod"}


def run_target(revision: str, percent: int, tag: str = "") -> dict:
    target = {"type": REVISION, "revision": revision, "percent": percent}
    return {**target, "tag": tag} if tag else target


def kn_target(revision: str, percent: int, tag: str = "") -> dict:
    target = {"revisionName": revision, "latestRevision": False, "percent": percent}
    return {**target, "tag": tag} if tag else target


def svc(name: str, traffics: list[dict], changes: dict | None = None):
    return res(CLOUD_RUN, name, SERVICE, {"traffics": traffics, **(changes or {})})


def kn(name: str, traffic: list[dict], changes: dict | None = None):
    return res(KNATIVE, name, KNATIVE_SERVICE, {"spec.traffic": traffic, **(changes or {})})


CANDIDATE = [run_target("qa-rOLD", 90), run_target("qa-rNEW", 10, "candidate")]
KN_CANDIDATE = [kn_target("qa-rOLD", 90), kn_target("qa-rNEW", 10, "candidate")]

CASES = [
    case(
        "rollout-traffic-valid",
        [
            svc("latest", [{"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", "percent": 100}]),
            svc("canary", CANDIDATE),
            svc("promoted", [run_target("qa-rNEW", 100), run_target("qa-rOLD", 0, "previous")]),
            svc("sum-90", [run_target("qa-rOLD", 80), run_target("qa-rNEW", 10, "candidate")]),
            svc(
                "tag-twice", [run_target("qa-rOLD", 100, "candidate"), run_target("qa-rNEW", 0, "candidate")]
            ),
            kn("kn-canary", KN_CANDIDATE),
            kn("kn-sum-110", [kn_target("qa-rOLD", 100), kn_target("qa-rNEW", 10, "candidate")]),
            kn("kn-tag-twice", [kn_target("qa-rOLD", 100, "previous"), kn_target("qa-rNEW", 0, "previous")]),
        ],
        passing={"latest", "canary", "promoted", "kn-canary"},
        failing={"sum-90", "tag-twice", "kn-sum-110", "kn-tag-twice"},
    ),
    case(
        "rollout-gated-prod",
        [
            svc("prod-gated", CANDIDATE, PROD),
            svc("prod-latest", [{"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", "percent": 100}], PROD),
            svc("dev-latest", [{"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", "percent": 100}]),
            kn("kn-prod-gated", [kn_target("qa-rNEW", 100)], KNATIVE_PROD),
            kn("kn-prod-latest", [{"latestRevision": True, "percent": 100}], KNATIVE_PROD),
        ],
        passing={"prod-gated", "dev-latest", "kn-prod-gated"},
        failing={"prod-latest", "kn-prod-latest"},
    ),
    case(
        "rollout-candidate-tagged",
        [
            svc("tagged", CANDIDATE),
            svc("untagged", [run_target("qa-rOLD", 90), run_target("qa-rNEW", 10)]),
            svc("previous-with-traffic", [run_target("qa-rNEW", 90), run_target("qa-rOLD", 10, "previous")]),
            svc("one-target", [run_target("qa-rNEW", 100)]),
            kn("kn-tagged", KN_CANDIDATE),
            kn("kn-untagged", [kn_target("qa-rOLD", 50), kn_target("qa-rNEW", 50)]),
        ],
        passing={"tagged", "one-target", "kn-tagged"},
        failing={"untagged", "previous-with-traffic", "kn-untagged"},
    ),
]
