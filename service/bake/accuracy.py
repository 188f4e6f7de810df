"""The int8 accuracy gate: an int8 bake is kept only if its SQuAD F1 is within a margin of fp32's.

Static int8 can cost an extractive-QA model real accuracy (published figures in docs/image.md,
"int8 accuracy gate"), and how much depends on the model, the quantiser and the calibration
text, so it is measured on every int8 bake rather than assumed. `python -m service.bake
--precision int8` also bakes the same checkpoint in fp32 for the same runtime, answers the same
questions (service/bake/accuracy_data.py) with both through the service's own path (QAModel:
its tokenizer windows, backend and span search, as they will be served), scores both with the
official SQuAD v1.1 metric (service/bake/squad_metric.py) and refuses the bake, in one line,
when

    F1(fp32) - F1(int8) > margin        (F1 in points, 0-100; margin default 1.0)

The numbers (both scores, the sample, the margin, pass) go into the manifest's `accuracy_gate`
and /ready reports them.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from service.bake.accuracy_data import Sample
from service.bake.squad_metric import Score, score

# F1 points an int8 bake may lose against fp32 on the sample; the stack's int8AccuracyMargin
# reaches the bake as this (infra/plan.py image_build_args -> Dockerfile -> --accuracy-margin).
DEFAULT_MARGIN = 1.0
MARGIN_RANGE = (0.0, 100.0)  # F1 is 0-100: a margin of 100 accepts any int8 bake
MARGIN_VALID = f"a number of F1 points {MARGIN_RANGE[0]:g}…{MARGIN_RANGE[1]:g}, e.g. {DEFAULT_MARGIN}"
REFERENCE, CANDIDATE = "fp32", "int8"

Predictor = Callable[[str, str], str]  # (question, context) -> answer text


class AccuracyGateError(ValueError):
    """A gate that cannot run as asked (bad margin); str() is one line."""


def parse_margin(text: str) -> float:
    """A margin in F1 points from its text (a CLI flag, a build arg); one-line error otherwise."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        value = math.nan
    check_margin(value, shown=text)
    return value


def check_margin(value: float, shown: object = None) -> None:
    if not MARGIN_RANGE[0] <= value <= MARGIN_RANGE[1]:  # also refuses nan
        raise AccuracyGateError(
            f"--accuracy-margin {shown if shown is not None else value!r} is not valid: {MARGIN_VALID}"
        )


def load_predictor(model_dir: Path) -> Predictor:
    """The best answer of `model_dir` loaded as the service loads it (all CPUs of the build)."""
    from service.qa.model import QAModel  # noqa: PLC0415 - needs a runtime, only for int8 bakes

    model = QAModel.load(model_dir, num_threads=os.cpu_count() or 1)

    def predict(question: str, context: str) -> str:
        try:
            return model.predict(question, context).best.answer
        except ValueError:  # a question over the token limit, a context with no text: no answer
            return ""

    return predict


def evaluate(predict: Predictor, sample: Sample) -> Score:
    predictions = {example.id: predict(example.question, example.context) for example in sample.examples}
    return score(predictions, {example.id: example.answers for example in sample.examples})


@dataclass(frozen=True)
class GateResult:
    sample: Sample
    margin: float
    reference: Score
    candidate: Score

    @property
    def f1_drop(self) -> float:
        return self.reference.f1 - self.candidate.f1

    @property
    def passed(self) -> bool:
        return self.f1_drop <= self.margin

    def as_json(self) -> dict:
        """What the manifest's `accuracy_gate` holds, and /ready shows."""
        return {
            "metric": "SQuAD v1.1 exact match and F1 (official normalisation), percent",
            **self.sample.as_json(),
            REFERENCE: self.reference.as_json(),
            CANDIDATE: self.candidate.as_json(),
            "f1_drop": round(self.f1_drop, 2),
            "margin": self.margin,
            "passed": self.passed,
        }

    def summary(self) -> str:
        ref, cand = self.reference, self.candidate
        return (
            f"int8 F1 {cand.f1:.2f} (EM {cand.exact_match:.2f}) against fp32 F1 {ref.f1:.2f} "
            f"(EM {ref.exact_match:.2f}) on {ref.count} questions of {self.sample.data}: "
            f"{self.f1_drop:.2f} points lost, margin {self.margin:g}"
        )

    def refusal(self) -> str:
        return (
            f"int8 accuracy gate refused the bake: {self.summary()}; serve fp32 (or bf16), "
            "or raise the margin (stack setting int8AccuracyMargin, --accuracy-margin)"
        )


def run_gate(reference_dir: Path, candidate_dir: Path, sample: Sample, margin: float) -> GateResult:
    """Score the fp32 and the int8 directory on `sample`; the caller keeps or refuses the bake."""
    # Looked up at call time: tests give the candidate a predictor that is wrong on purpose.
    reference = evaluate(load_predictor(reference_dir), sample)
    candidate = evaluate(load_predictor(candidate_dir), sample)
    return GateResult(sample=sample, margin=margin, reference=reference, candidate=candidate)
