"""A gated rollout across two regions, through pulumi.automation against the stand-in CLI whose
`up` runs the real program: the candidate is gated in the first region, then in the others, and
a failure anywhere leaves every region on the serving revision (docs/multi-region.md)."""

from __future__ import annotations

import pytest
from test_rollout_pulumi import PASS, deployed, driver, project, stack_file  # noqa: F401 (fixture)

from infra.rollout.gate import Verdict
from infra.rollout.orchestrate import rollout

pytestmark = pytest.mark.slow
REGIONS = '["us-central1", "europe-west4"]'


def two_regions(project) -> str:  # noqa: F811 (the fixture's value)
    driver(project).set_config({"regions": REGIONS})
    return deployed(project)


def recording_gate(seen: list[str], fail_in: str = ""):
    def gate(outputs):
        url = outputs["candidateUrl"]
        # The serving revision it is compared with is the one in the same region.
        assert outputs["servingUrl"].split(".")[-3] == url.split(".")[-3]
        seen.append(url)
        return Verdict(False, "5xx: 3 of 40 candidate responses") if fail_in and fail_in in url else PASS

    return gate


def ups(project) -> list[str]:  # noqa: F811
    from test_rollout_pulumi import calls

    return [c[c.index("--message") + 1] for c in calls(project) if c[0] == "up"]


def test_the_candidate_is_gated_in_the_first_region_then_in_the_rest(project):  # noqa: F811
    old = two_regions(project)
    seen: list[str] = []
    outcome = rollout(
        driver(project), gate=recording_gate(seen), canary=lambda o, p: PASS, say=lambda _: None
    )
    outputs = driver(project).outputs()
    new = outputs["newRevision"]
    assert outcome.code == 0 and outcome.line.startswith(f"promoted {new}: 100 %"), outcome.line
    assert [url.split(".")[-3] for url in seen] == ["us-central1", "europe-west4"]
    assert ups(project)[1:] == [
        f"rollout: candidate beside {old} in us-central1",
        f"rollout: {new} candidate in every region",
        f"rollout: promote {new}",
    ]
    config = stack_file(project)
    assert config["serverless-qa:servingRevision"] == new
    assert config["serverless-qa:rolloutRegions"] == "0"  # every region took the promotion
    assert set(outputs["candidateUrls"]) == {"us-central1", "europe-west4"}


def test_a_gate_failing_in_the_second_region_leaves_every_region_on_the_serving_revision(project):  # noqa: F811
    old = two_regions(project)
    seen: list[str] = []
    outcome = rollout(
        driver(project),
        gate=recording_gate(seen, fail_in="europe-west4"),
        canary=lambda o, p: PASS,
        steps=(10,),
        say=lambda _: None,
    )
    assert outcome.code == 1 and "in europe-west4, 5xx: 3 of 40" in outcome.line, outcome.line
    assert f"{old} keeps 100 %" in outcome.line
    config = stack_file(project)
    assert (config["serverless-qa:servingRevision"], config["serverless-qa:candidatePercent"]) == (old, "0")
    assert config["serverless-qa:rolloutRegions"] == "0"
    assert driver(project).outputs()["servingRevision"] == old


def test_an_interrupted_rollout_resumes_from_the_first_region(project, monkeypatch):  # noqa: F811
    old = two_regions(project)
    monkeypatch.setenv("FAKE_PULUMI_INTERRUPT_UP", "3")  # 1 first deploy, 2 first region, 3 every region
    first = rollout(driver(project), gate=lambda o: PASS, canary=lambda o, p: PASS, say=lambda _: None)
    assert first.code == 1 and first.line.startswith("held: "), first.line
    assert stack_file(project)["serverless-qa:servingRevision"] == old
    monkeypatch.delenv("FAKE_PULUMI_INTERRUPT_UP")
    seen: list[str] = []
    again = rollout(driver(project), gate=recording_gate(seen), canary=lambda o, p: PASS, say=lambda _: None)
    assert again.code == 0, again.line
    assert [url.split(".")[-3] for url in seen] == ["us-central1", "europe-west4"]
    assert driver(project).outputs()["servingRevision"] == driver(project).outputs()["newRevision"] != old


def test_behind_the_front_door_the_gate_goes_through_it_in_each_region(project):  # noqa: F811
    front_door = {
        "loadBalancer": "true",
        "domain": "qa.example.com",
        "rateLimitPerMinute": "600",
        "public": "true",
    }
    driver(project).set_config({"regions": REGIONS, **front_door})
    old = deployed(project)
    seen: list[tuple[str, str]] = []

    def gate(outputs):
        seen.append((outputs["candidateUrl"], outputs["servingUrl"]))
        return PASS

    outcome = rollout(driver(project), gate=gate, canary=lambda o, p: PASS, say=lambda _: None)
    assert outcome.code == 0 and f"{old} stays tagged previous" in outcome.line, outcome.line
    assert seen == [
        (
            f"https://qa.example.com/_rollout/candidate/{region}",
            f"https://qa.example.com/_rollout/serving/{region}",
        )
        for region in ("us-central1", "europe-west4")
    ]
