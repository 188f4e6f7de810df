"""Revision names and rollout phases as traffic blocks, for Cloud Run v2 and Knative (pure)."""

from __future__ import annotations

import pytest

from infra.rollout.revisions import is_revision_of, revision_name
from infra.rollout.traffic import cloud_run_traffic, knative_tag_host, knative_traffic, phase, tag_url

IMAGE = "europe-docker.pkg.dev/p/r/qa@sha256:" + "a" * 64
TEMPLATE = {"cpu": "2", "memory": "4Gi", "env": [["MODEL_REVISION", "abc"]]}


def test_revision_name_is_deterministic_and_prefixed():
    name = revision_name("qa", IMAGE, TEMPLATE)
    assert name == revision_name("qa", IMAGE, dict(reversed(list(TEMPLATE.items()))))
    assert name.startswith("qa-r") and len(name) == len("qa-r") + 12
    assert is_revision_of("qa", name)


@pytest.mark.parametrize(
    ("image", "template"),
    [(IMAGE.replace("a" * 64, "b" * 64), TEMPLATE), (IMAGE, {**TEMPLATE, "memory": "8Gi"})],
    ids=["image", "spec"],
)
def test_revision_name_changes_with_image_or_spec(image, template):
    assert revision_name("qa", image, template) != revision_name("qa", IMAGE, TEMPLATE)


def test_revision_name_refuses_names_over_a_dns_label():
    with pytest.raises(ValueError, match="over 63"):
        revision_name("q" * 50, IMAGE, TEMPLATE)


def test_is_revision_of_needs_the_service_prefix():
    assert not is_revision_of("qa", "other-r123")
    assert not is_revision_of("qa", "qa-")


PHASES = {
    # (mode, new, serving, percent, previous) → (cloud run traffics, knative traffic)
    "direct": (
        ("direct", "qa-rNEW", "", 0, ""),
        [{"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", "percent": 100}],
        [{"latestRevision": True, "percent": 100}],
    ),
    "first deploy": (
        ("gated", "qa-rNEW", "", 0, ""),
        [{"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", "revision": "qa-rNEW", "percent": 100}],
        [{"revisionName": "qa-rNEW", "latestRevision": False, "percent": 100}],
    ),
    "candidate at 0 %": (
        ("gated", "qa-rNEW", "qa-rOLD", 0, ""),
        [
            {"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", "revision": "qa-rOLD", "percent": 100},
            {
                "type": "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION",
                "revision": "qa-rNEW",
                "percent": 0,
                "tag": "candidate",
            },
        ],
        [
            {"revisionName": "qa-rOLD", "latestRevision": False, "percent": 100},
            {"revisionName": "qa-rNEW", "latestRevision": False, "percent": 0, "tag": "candidate"},
        ],
    ),
    "canary at 10 %": (
        ("gated", "qa-rNEW", "qa-rOLD", 10, ""),
        [
            {"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", "revision": "qa-rOLD", "percent": 90},
            {
                "type": "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION",
                "revision": "qa-rNEW",
                "percent": 10,
                "tag": "candidate",
            },
        ],
        [
            {"revisionName": "qa-rOLD", "latestRevision": False, "percent": 90},
            {"revisionName": "qa-rNEW", "latestRevision": False, "percent": 10, "tag": "candidate"},
        ],
    ),
    "promoted": (
        ("gated", "qa-rNEW", "qa-rNEW", 0, "qa-rOLD"),
        [
            {"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", "revision": "qa-rNEW", "percent": 100},
            {
                "type": "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION",
                "revision": "qa-rOLD",
                "percent": 0,
                "tag": "previous",
            },
        ],
        [
            {"revisionName": "qa-rNEW", "latestRevision": False, "percent": 100},
            {"revisionName": "qa-rOLD", "latestRevision": False, "percent": 0, "tag": "previous"},
        ],
    ),
    "rolled back": (
        # servingRevision back on the old one, previousRevision cleared: the new one is a candidate again.
        ("gated", "qa-rNEW", "qa-rOLD", 0, ""),
        [
            {"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", "revision": "qa-rOLD", "percent": 100},
            {
                "type": "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION",
                "revision": "qa-rNEW",
                "percent": 0,
                "tag": "candidate",
            },
        ],
        [
            {"revisionName": "qa-rOLD", "latestRevision": False, "percent": 100},
            {"revisionName": "qa-rNEW", "latestRevision": False, "percent": 0, "tag": "candidate"},
        ],
    ),
}


@pytest.mark.parametrize("name", PHASES)
def test_phase_traffic_blocks(name):
    (mode, new, serving, percent, previous), cloud_run, knative = PHASES[name]
    current = phase(mode, new, serving, percent, previous)
    assert cloud_run_traffic(current.targets) == cloud_run
    assert knative_traffic(current.targets) == knative
    assert sum(t.percent for t in current.targets) == 100


def test_candidate_phase_keeps_an_older_previous_tagged():
    current = phase("gated", "qa-rC", "qa-rB", 50, previous="qa-rA")
    assert [(t.revision, t.percent, t.tag) for t in current.targets] == [
        ("qa-rB", 50, ""),
        ("qa-rC", 50, "candidate"),
        ("qa-rA", 0, "previous"),
    ]
    assert (current.name, current.serving, current.candidate) == ("candidate", "qa-rB", "qa-rC")


def test_serving_equal_to_new_is_the_serving_phase():
    current = phase("gated", "qa-rNEW", "qa-rNEW", 0, previous="qa-rNEW")
    assert (current.name, current.serving, current.candidate) == ("serving", "qa-rNEW", "")
    assert len(current.targets) == 1


@pytest.mark.parametrize(("mode", "percent"), [("canary", 0), ("gated", 100), ("gated", -1)])
def test_phase_rejects_bad_inputs(mode, percent):
    with pytest.raises(ValueError):
        phase(mode, "qa-rNEW", "qa-rOLD", percent)


def test_tag_urls():
    assert knative_tag_host("candidate", "qa", "qa", "1.2.3.4.sslip.io") == "candidate-qa.qa.1.2.3.4.sslip.io"
    statuses = [
        {"percent": 100, "revision": "qa-rOLD"},
        {"tag": "candidate", "uri": "https://candidate---qa-x.run.app"},
    ]
    assert tag_url(statuses, "candidate") == "https://candidate---qa-x.run.app"
    assert tag_url(statuses, "previous") == ""
    assert tag_url(
        [{"tag": "candidate", "url": "http://candidate-qa.qa.example"}], "candidate", "url"
    ).startswith("http://candidate-qa")
    assert tag_url(None, "candidate") == ""


def test_rollout_setting_problems_name_key_value_and_what_is_valid():
    from infra.rollout.checks import rollout_problems

    assert rollout_problems("gated", "qa-rOLD", 10, "qa-rOLDER", "qa") == []
    assert rollout_problems("direct", "", 0, "", "qa") == []
    assert rollout_problems("canary", "", 0, "", "qa") == [("rollout", "canary", "one of direct, gated")]
    assert [p[0] for p in rollout_problems("direct", "qa-rOLD", 0, "", "qa")] == ["servingRevision"]
    assert rollout_problems("gated", "other-rOLD", 0, "", "qa")[0][:2] == ("servingRevision", "other-rOLD")
    assert rollout_problems("gated", "qa-rOLD", 100, "", "qa") == [
        ("candidatePercent", 100, "a whole number 0…99")
    ]
    assert rollout_problems("gated", "", 10, "", "qa")[0][:2] == ("candidatePercent", 10)


def test_regions_beyond_the_staged_ones_keep_the_revision_that_served_before():
    from infra.rollout.traffic import RolloutArgs

    def targets(args: RolloutArgs) -> list[tuple[str, int, str]]:
        return [(t.revision, t.percent, t.tag) for t in args.phase("qa-rNEW").targets]

    candidate = {"mode": "gated", "serving_revision": "qa-rOLD", "candidate_percent": 10, "regions": 1}
    assert targets(RolloutArgs(**candidate, region_index=0)) == [
        ("qa-rOLD", 90, ""),
        ("qa-rNEW", 10, "candidate"),
    ]
    assert targets(RolloutArgs(**candidate, region_index=1)) == [("qa-rOLD", 100, "")]
    promoted = {"mode": "gated", "serving_revision": "qa-rNEW", "previous_revision": "qa-rOLD", "regions": 1}
    assert targets(RolloutArgs(**promoted, region_index=0)) == [
        ("qa-rNEW", 100, ""),
        ("qa-rOLD", 0, "previous"),
    ]
    assert targets(RolloutArgs(**promoted, region_index=1)) == [("qa-rOLD", 100, "")]
    # 0 stages nothing: every region takes the phase; a first deploy has nothing to hold on to.
    assert targets(RolloutArgs(**{**candidate, "regions": 0}, region_index=1))[1][2] == "candidate"
    assert targets(RolloutArgs("gated", regions=1, region_index=1)) == [("qa-rNEW", 100, "")]
