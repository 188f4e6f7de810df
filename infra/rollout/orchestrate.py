"""`rollout` and `rollback` as a sequence of stack updates, each a phase of `traffic`.

Every step writes the phase into stack config, then runs `up`; the phase of an interrupted run
is read back from config and outputs, so running the command again carries on. Whatever fails,
the config left behind keeps traffic where it was (a plain `pulumi up` then changes nothing),
and one line says why.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from infra.rollout import keys
from infra.rollout.gate import Verdict


class StackError(Exception):
    """The Pulumi CLI failed (lock held, update failed): the message is one line."""


class Driver(Protocol):
    def config(self) -> Mapping[str, str]:
        """The stack's project config, defaults applied, keys without the project prefix."""

    def outputs(self) -> Mapping[str, Any]:
        """Outputs of the last completed update ({} before the first)."""

    def set_config(self, values: Mapping[str, str]) -> None: ...

    def up(self, message: str) -> Mapping[str, Any]:
        """Run the update; its outputs. Raises StackError."""


Gate = Callable[[Mapping[str, Any]], Verdict]  # outputs of the candidate phase → verdict
Canary = Callable[[Mapping[str, Any], int], Verdict]  # (outputs, percent) → verdict after the soak


@dataclass(frozen=True)
class Outcome:
    code: int  # 0 done, 1 held back / nothing to do that was asked, 2 usage
    line: str


def _phase(serving: str, percent: int = 0, previous: str | None = None) -> dict[str, str]:
    values = {keys.SERVING_REVISION: serving, keys.CANDIDATE_PERCENT: str(percent)}
    if previous is not None:
        values[keys.PREVIOUS_REVISION] = previous
    return values


def _percent(config: Mapping[str, str]) -> int:
    try:
        return int(config.get(keys.CANDIDATE_PERCENT) or 0)
    except ValueError:
        return 0


def _regions(config: Mapping[str, str]) -> list[str]:
    """The stack's `regions` (empty: gcp:region alone)."""
    try:
        regions = json.loads(config.get("regions") or "[]")
    except ValueError:
        return []
    return [r for r in regions if isinstance(r, str)] if isinstance(regions, list) else []


def _pending(config: Mapping[str, str], outputs: Mapping[str, Any]) -> bool:
    """Config names a serving revision the last completed update did not apply (interrupted)."""
    serving = config.get(keys.SERVING_REVISION, "")
    applied = outputs.get(keys.SERVING_OUTPUT, "")
    return bool(serving) and serving != applied and serving == outputs.get(keys.NEW_REVISION)


def rollout(
    driver: Driver,
    gate: Gate,
    canary: Canary,
    steps: Sequence[int] = (),
    say: Callable[[str], None] = print,
) -> Outcome:
    config, outputs = driver.config(), driver.outputs()
    if config.get(keys.ROLLOUT) != "gated":
        return Outcome(2, f"rollout: {config.get(keys.ROLLOUT)!r} — this command needs `rollout: gated`")
    try:
        return _rollout(driver, gate, canary, steps=steps, say=say, config=config, outputs=outputs)
    except StackError as error:
        return Outcome(1, f"held: {error}")


def _unfinished(driver: Driver, say: Callable[[str], None], config, outputs) -> Outcome | None:
    """What must happen before any candidate: a first deploy, a promotion already decided, or a
    serving revision to be named by hand (a stack last updated before revisions had names)."""
    if not outputs:
        driver.set_config(_phase("", 0))
        done = driver.up("rollout: first deploy")
        return Outcome(0, f"first deploy: {done[keys.NEW_REVISION]} takes 100 % (nothing to gate against)")
    if _pending(config, outputs):
        say(f"resuming the promotion of {config[keys.SERVING_REVISION]}")
        done = driver.up("rollout: promote (resumed)")
        return Outcome(0, f"promoted {done[keys.SERVING_OUTPUT]}: 100 %")
    if not (outputs.get(keys.SERVING_OUTPUT) or config.get(keys.SERVING_REVISION)):
        return Outcome(
            1,
            "the last update exported no servingRevision: set it to the revision serving now "
            "(pulumi config set servingRevision NAME) and run again",
        )
    return None


def _rollout(driver, gate, canary, *, steps, say, config, outputs) -> Outcome:
    if (outcome := _unfinished(driver, say, config, outputs)) is not None:
        return outcome
    serving = outputs.get(keys.SERVING_OUTPUT) or config[keys.SERVING_REVISION]
    interrupted = outputs.get(keys.CANDIDATE_REVISION, "")
    reached = _percent(config) if interrupted and config.get(keys.SERVING_REVISION) == serving else 0
    regions = _regions(config)
    # Several regions: the candidate lands in the first region alone, and the others take it only
    # once it passed there (docs/multi-region.md).
    first = {keys.ROLLOUT_REGIONS: "1"} if len(regions) > 1 else {}
    # The candidate first lands at 0 %: only a revision that passed the gate gets users' traffic.
    driver.set_config({**_phase(serving, 0), **first})
    where = f" in {regions[0]}" if first else ""
    done = driver.up(f"rollout: candidate beside {serving}{where}")
    new = done[keys.NEW_REVISION]
    if new == serving:
        return Outcome(0, f"nothing to roll out: {serving} already takes 100 %")
    if interrupted == new and reached:
        say(f"resuming {new}: it had reached {reached} %; gating again from 0 %")
    verdict = gate(_in_region(done, regions[0]) if first else done)
    if not verdict.passed:
        return Outcome(1, f"held {new} at 0 %, {serving} keeps 100 %: {verdict.reason}")
    say(f"{new}: {verdict.reason}")
    for percent in (s for s in steps if interrupted != new or s >= reached):
        driver.set_config(_phase(serving, percent))
        done = driver.up(f"rollout: {new} at {percent} %")
        verdict = canary(done, percent)
        if not verdict.passed:
            driver.set_config(_phase(serving, 0))
            driver.up(f"rollout: {new} back to 0 %")
            return Outcome(
                1, f"held {new} at 0 % after the {percent} % step, {serving} keeps 100 %: {verdict.reason}"
            )
        say(f"{new} at {percent} %: {verdict.reason}")
    if (
        first
        and (held := _gate_the_rest(driver, gate, say, new=new, serving=serving, regions=regions)) is not None
    ):
        return held
    driver.set_config({**_phase(new, 0, previous=serving), **_everywhere(config, first)})
    done = driver.up(f"rollout: promote {new}")
    return Outcome(0, f"promoted {new}: 100 %; {serving} stays tagged previous at 0 % for `make rollback`")


def _everywhere(config: Mapping[str, str], first: Mapping[str, str] | None = None) -> dict[str, str]:
    """The config that gives a phase to every region (only written where regions were staged)."""
    staged = first or config.get(keys.ROLLOUT_REGIONS, "0") not in ("", "0")
    return {keys.ROLLOUT_REGIONS: "0"} if staged else {}


def _in_region(outputs: Mapping[str, Any], region: str) -> dict[str, Any]:
    """The outputs as a gate in `region` reads them: the candidate there, and the serving revision
    there to compare it with (a revision in another region would add the distance between them
    to one side of the latency check)."""
    candidates, serving = outputs.get(keys.CANDIDATE_URLS) or {}, outputs.get(keys.SERVING_URLS) or {}
    return {
        **outputs,
        keys.CANDIDATE_URL: candidates.get(region, ""),
        keys.SERVING_URL: serving.get(region, ""),
    }


def _gate_the_rest(
    driver: Driver, gate: Gate, say: Callable[[str], None], *, new: str, serving: str, regions: Sequence[str]
) -> Outcome | None:
    """The candidate at 0 % in every region, gated in each after the first; a failure anywhere
    leaves every region on `serving` (the first one's canary share included). None: all passed."""
    driver.set_config({**_phase(serving, 0), keys.ROLLOUT_REGIONS: "0"})
    done = driver.up(f"rollout: {new} candidate in every region")
    for region in regions[1:]:
        verdict = gate(_in_region(done, region))
        if not verdict.passed:
            return Outcome(
                1, f"held {new} at 0 % in every region, {serving} keeps 100 %: in {region}, {verdict.reason}"
            )
        say(f"{new} in {region}: {verdict.reason}")
    return None


def rollback(driver: Driver, say: Callable[[str], None] = print) -> Outcome:
    config, outputs = driver.config(), driver.outputs()
    if config.get(keys.ROLLOUT) != "gated":
        return Outcome(2, f"rollout: {config.get(keys.ROLLOUT)!r} — rollback needs `rollout: gated`")
    try:
        return _rollback(driver, say, config, outputs)
    except StackError as error:
        return Outcome(1, f"rollback failed, traffic as before: {error}")


def _rollback(driver, say, config, outputs) -> Outcome:
    serving = outputs.get(keys.SERVING_OUTPUT, "")
    candidate = outputs.get(keys.CANDIDATE_REVISION, "")
    previous = outputs.get(keys.PREVIOUS_OUTPUT, "")
    wanted = config.get(keys.SERVING_REVISION, "")
    if wanted and wanted != serving and wanted != outputs.get(keys.NEW_REVISION) and not candidate:
        say(f"resuming the rollback to {wanted}")
        done = driver.up("rollback (resumed)")
        return Outcome(0, f"rolled back: {done[keys.SERVING_OUTPUT]} takes 100 %")
    if candidate:
        if not int(outputs.get(keys.CANDIDATE_SHARE) or 0):
            return Outcome(0, f"nothing to roll back: {serving} takes 100 %, {candidate} 0 %")
        driver.set_config({**_phase(serving, 0), **_everywhere(config)})
        driver.up(f"rollback: {candidate} to 0 %")
        return Outcome(0, f"rolled back: {serving} takes 100 %, {candidate} 0 %")
    if not previous:
        return Outcome(1, f"nothing to roll back to: {serving or 'the stack'} has no previous revision")
    driver.set_config({**_phase(previous, 0, previous=""), **_everywhere(config)})
    done = driver.up(f"rollback: {previous}")
    return Outcome(
        0,
        f"rolled back: {done[keys.SERVING_OUTPUT]} takes 100 %; {serving} stays deployed as candidate at 0 %",
    )
