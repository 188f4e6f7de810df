"""rollout / rollback decisions over an in-memory stack whose outputs follow `traffic.phase`.

The stack here is a stand-in for Pulumi (fast, exhaustive); tests/infra/test_rollout_pulumi.py runs
the same commands through pulumi.automation against a stand-in `pulumi` CLI and the real program.
"""

from __future__ import annotations

from infra.rollout import keys
from infra.rollout.gate import Verdict
from infra.rollout.orchestrate import StackError, rollback, rollout
from infra.rollout.traffic import phase

PASS = Verdict(True, "gate passed")


class MemoryStack:
    def __init__(self, new: str = "qa-rA", mode: str = "gated"):
        self.new = new  # the revision the program's template makes now
        self.values = {keys.ROLLOUT: mode, keys.SERVING_REVISION: "", keys.CANDIDATE_PERCENT: "0"}
        self.last: dict = {}
        self.ups: list[dict] = []
        self.fail_up: int | None = None  # the n-th up (0-based) fails

    def config(self):
        return dict(self.values)

    def outputs(self):
        return dict(self.last)

    def set_config(self, values):
        self.values.update(values)

    def up(self, message):
        if self.fail_up == len(self.ups):
            self.fail_up = None
            self.ups.append({"failed": message})
            raise StackError("update canceled")
        current = phase(
            "gated",
            self.new,
            self.values.get(keys.SERVING_REVISION, ""),
            int(self.values.get(keys.CANDIDATE_PERCENT) or 0),
            self.values.get(keys.PREVIOUS_REVISION, ""),
        )
        self.last = {
            keys.URL: "https://qa.example",
            keys.NEW_REVISION: self.new,
            keys.SERVING_OUTPUT: current.serving,
            keys.CANDIDATE_REVISION: current.candidate,
            keys.CANDIDATE_URL: "https://candidate---qa.example" if current.candidate else "",
            keys.CANDIDATE_SHARE: int(self.values.get(keys.CANDIDATE_PERCENT) or 0)
            if current.candidate
            else 0,
            keys.PREVIOUS_OUTPUT: next((t.revision for t in current.targets if t.tag == "previous"), ""),
            "traffic": [(t.revision, t.percent, t.tag) for t in current.targets],
        }
        self.ups.append(dict(self.last))
        return dict(self.last)


def deployed(new="qa-rA") -> MemoryStack:
    stack = MemoryStack(new)
    assert rollout(stack, gate=lambda o: PASS, canary=lambda o, p: PASS, say=lambda _: None).code == 0
    return stack


def run(stack, gate=PASS, canary=PASS, steps=()):
    lines = []
    outcome = rollout(stack, lambda o: gate, lambda o, p: canary, steps, say=lines.append)
    return outcome, lines


def test_first_deploy_takes_all_traffic_without_a_gate():
    stack = MemoryStack("qa-rA")
    outcome, _ = run(stack, gate=Verdict(False, "must not be asked"))
    assert outcome.code == 0 and "first deploy: qa-rA" in outcome.line
    assert stack.last["traffic"] == [("qa-rA", 100, "")]


def test_happy_path_gates_steps_then_promotes_keeping_previous():
    stack = deployed("qa-rA")
    stack.new = "qa-rB"
    seen = []
    outcome = rollout(
        stack,
        gate=lambda o: seen.append(("gate", o[keys.CANDIDATE_URL], o[keys.CANDIDATE_SHARE])) or PASS,
        canary=lambda o, p: seen.append(("canary", p, o["traffic"])) or PASS,
        steps=(10, 50),
        say=lambda _: None,
    )
    assert outcome.code == 0 and outcome.line.startswith("promoted qa-rB")
    assert seen == [
        ("gate", "https://candidate---qa.example", 0),
        ("canary", 10, [("qa-rA", 90, ""), ("qa-rB", 10, "candidate")]),
        ("canary", 50, [("qa-rA", 50, ""), ("qa-rB", 50, "candidate")]),
    ]
    assert stack.last["traffic"] == [("qa-rB", 100, ""), ("qa-rA", 0, "previous")]
    assert stack.values[keys.SERVING_REVISION] == "qa-rB"


def test_gate_failure_holds_the_candidate_at_zero_and_config_keeps_traffic():
    stack = deployed("qa-rA")
    stack.new = "qa-rB"
    outcome, _ = run(stack, gate=Verdict(False, "wrong answers: 3/3 golden requests differ"), steps=(10,))
    assert outcome.code == 1
    assert outcome.line == "held qa-rB at 0 %, qa-rA keeps 100 %: wrong answers: 3/3 golden requests differ"
    assert stack.last["traffic"] == [("qa-rA", 100, ""), ("qa-rB", 0, "candidate")]
    # A plain `pulumi up` from this config changes nothing: the phase is in the config.
    assert stack.values[keys.SERVING_REVISION] == "qa-rA"


def test_canary_failure_goes_back_to_zero():
    stack = deployed("qa-rA")
    stack.new = "qa-rB"
    outcome, _ = run(stack, canary=Verdict(False, "error ratio 5/50 = 10.0%"), steps=(10, 50))
    assert outcome.code == 1 and "after the 10 % step" in outcome.line and "10.0%" in outcome.line
    assert stack.last["traffic"] == [("qa-rA", 100, ""), ("qa-rB", 0, "candidate")]
    assert stack.values[keys.CANDIDATE_PERCENT] == "0"


def test_nothing_changed_is_not_a_rollout():
    stack = deployed("qa-rA")
    outcome, _ = run(stack, gate=Verdict(False, "must not be asked"))
    assert (outcome.code, outcome.line) == (0, "nothing to roll out: qa-rA already takes 100 %")


def test_direct_stacks_are_refused():
    outcome, _ = run(MemoryStack(mode="direct"))
    assert outcome.code == 2 and "rollout: gated" in outcome.line


def test_rollback_after_promotion_returns_to_previous_in_one_update():
    stack = deployed("qa-rA")
    stack.new = "qa-rB"
    run(stack)
    ups = len(stack.ups)
    outcome = rollback(stack, say=lambda _: None)
    assert outcome.code == 0 and outcome.line.startswith("rolled back: qa-rA takes 100 %")
    assert len(stack.ups) == ups + 1
    assert stack.last["traffic"] == [("qa-rA", 100, ""), ("qa-rB", 0, "candidate")]


def test_rollback_during_a_canary_drops_the_candidate_share():
    stack = deployed("qa-rA")
    stack.new = "qa-rB"
    stack.set_config({keys.SERVING_REVISION: "qa-rA", keys.CANDIDATE_PERCENT: "50"})
    stack.up("canary by hand")
    outcome = rollback(stack, say=lambda _: None)
    assert outcome.code == 0 and stack.last["traffic"] == [("qa-rA", 100, ""), ("qa-rB", 0, "candidate")]
    assert rollback(stack, say=lambda _: None).line.startswith("nothing to roll back")


def test_rollback_without_previous_says_so():
    outcome = rollback(deployed("qa-rA"), say=lambda _: None)
    assert outcome.code == 1 and "no previous revision" in outcome.line


def test_interrupted_promotion_is_finished_on_the_next_run():
    stack = deployed("qa-rA")
    stack.new = "qa-rB"
    stack.fail_up = len(stack.ups) + 1  # the candidate up works, the promotion up is cut off
    outcome, _ = run(stack)
    assert outcome.code == 1 and outcome.line == "held: update canceled"
    assert stack.last["traffic"] == [("qa-rA", 100, ""), ("qa-rB", 0, "candidate")]
    outcome, lines = run(stack, gate=Verdict(False, "must not be asked"))
    assert outcome.code == 0 and lines == ["resuming the promotion of qa-rB"]
    assert stack.last["traffic"] == [("qa-rB", 100, ""), ("qa-rA", 0, "previous")]


def test_interrupted_canary_resumes_from_the_step_it_reached():
    stack = deployed("qa-rA")
    stack.new = "qa-rB"
    stack.fail_up = len(stack.ups) + 2  # candidate up, 10 % up, then the 50 % up is cut off
    outcome, _ = run(stack, steps=(10, 50, 90))
    assert outcome.code == 1
    assert stack.last["traffic"] == [("qa-rA", 90, ""), ("qa-rB", 10, "candidate")]
    # Config says 50 %: the resumed run lands the candidate at 0 %, gates it again, then 50 and 90.
    steps = []
    outcome = rollout(
        stack, lambda o: PASS, lambda o, p: steps.append(p) or PASS, (10, 50, 90), say=lambda _: None
    )
    assert outcome.code == 0 and steps == [50, 90]
    assert stack.last["traffic"] == [("qa-rB", 100, ""), ("qa-rA", 0, "previous")]


def test_a_new_candidate_does_not_inherit_an_interrupted_ones_progress():
    stack = deployed("qa-rA")
    stack.new = "qa-rB"
    stack.set_config({keys.SERVING_REVISION: "qa-rA", keys.CANDIDATE_PERCENT: "50"})
    stack.up("qa-rB reached 50 % before an interruption")
    stack.new = "qa-rC"  # and then the code changed
    steps = []
    rollout(stack, lambda o: PASS, lambda o, p: steps.append(p) or PASS, (10, 50, 90), say=lambda _: None)
    assert steps == [10, 50, 90]
    assert stack.last["traffic"] == [("qa-rC", 100, ""), ("qa-rA", 0, "previous")]


def test_a_stack_from_before_named_revisions_needs_the_serving_one_named():
    stack = MemoryStack("qa-rB")
    stack.last = {keys.URL: "https://qa.example"}  # outputs of an older program: no revision names
    outcome, _ = run(stack, gate=Verdict(False, "must not be asked"))
    assert outcome.code == 1 and "set it to the revision serving now" in outcome.line
    assert stack.ups == []  # nothing was deployed
    stack.set_config({keys.SERVING_REVISION: "qa-00007-abc"})
    outcome, _ = run(stack)
    assert outcome.code == 0 and stack.last["traffic"] == [
        ("qa-rB", 100, ""),
        ("qa-00007-abc", 0, "previous"),
    ]
