"""Cold starts on a public production service: an instance kept warm, or the steady preset.

A public prod service that scales to zero and removes instances as soon as demand dips makes
some users wait for a model to load (docs/cold-starts.md). `autoscaling: steady` answers it on
either platform (Cloud Run: min instances; Knative: a scale-down delay), as does minInstances ≥ 1.
Advisory: scale to zero is a deliberate trade of latency for cost, worth a look, not a veto.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from infra.scaling import KNATIVE_AUTOSCALING_ANNOTATIONS, SCALING_MODES
from policy import tokens
from policy.rule import Level, Rule
from policy.rules.cloud_run_protection import is_prod
from policy.values import as_number, get, is_unknown

MIN_SCALE = f"{KNATIVE_AUTOSCALING_ANNOTATIONS}/min-scale"
SCALE_DOWN_DELAY = f"{KNATIVE_AUTOSCALING_ANNOTATIONS}/scale-down-delay"
FIX = "set `autoscaling: steady` (or `minInstances: 1`) in the prod stack"


def _public_prod(inputs: Mapping[str, Any], labels_path: str) -> bool:
    labels = get(inputs, labels_path)
    if not isinstance(labels, Mapping) or is_unknown(labels):
        return False
    return labels.get("access") == "public" and is_prod({"labels": labels})


def _cloud_run(_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    mode, floor = get(inputs, "scaling.scalingMode"), get(inputs, "template.scaling.minInstanceCount")
    if not _public_prod(inputs, "labels") or is_unknown(mode) or is_unknown(floor):
        return
    if mode == SCALING_MODES["manual"]:
        return
    if not as_number(floor):  # unset or 0
        yield "a public prod service scales to zero (template.scaling.minInstanceCount is 0 or unset)"


def _knative(_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    if not _public_prod(inputs, "metadata.labels"):
        return
    annotations = get(inputs, "spec.template.metadata.annotations")
    if is_unknown(annotations):
        return
    annotations = annotations if isinstance(annotations, Mapping) else {}
    if any(is_unknown(annotations.get(key)) for key in (MIN_SCALE, SCALE_DOWN_DELAY)):
        return
    if not as_number(annotations.get(MIN_SCALE)) and SCALE_DOWN_DELAY not in annotations:
        yield f"a public prod service scales to zero ({MIN_SCALE} 0 or unset) with no {SCALE_DOWN_DELAY}"


RULES = [
    Rule(
        name="cloudrun-prod-cold-starts",
        level=Level.ADVISORY,
        what="A public prod Cloud Run service keeps an instance (min instances ≥ 1, or manual scaling).",
        why=(
            "With min instances 0 the first request after a quiet spell, and some requests under "
            "steady traffic, wait for an instance to start and load the model (docs/cold-starts.md)."
        ),
        fix=FIX,
        types=frozenset({tokens.CLOUD_RUN_SERVICE}),
        check=_cloud_run,
    ),
    Rule(
        name="knative-prod-cold-starts",
        level=Level.ADVISORY,
        what="A public prod Knative Service keeps a pod (min-scale ≥ 1) or delays scaling down.",
        why=(
            "Knative removes pods as soon as the stable window's average allows and scales to zero; "
            "a user then waits for a pod to start and load the model (docs/cold-starts.md)."
        ),
        fix=FIX,
        types=frozenset({tokens.KNATIVE_SERVICE}),
        check=_knative,
    ),
]
