"""Passing and failing fixtures for the cold-start rules (expected names listed exactly)."""

from __future__ import annotations

from policy_helpers import (
    CLOUD_RUN,
    KNATIVE,
    KNATIVE_SERVICE,
    PRIVATE_KNATIVE_SERVICE,
    PRIVATE_SERVICE,
    SERVICE,
    case,
    res,
)

from infra.scaling import KNATIVE_AUTOSCALING_ANNOTATIONS as PREFIX

PROD = {"labels.stack": "prod"}
ANNOTATIONS = "spec.template.metadata.annotations"

CASES = [
    case(
        "cloudrun-prod-cold-starts",
        [
            res(CLOUD_RUN, "prod-scales-to-zero", SERVICE, PROD),
            res(CLOUD_RUN, "prod-no-scaling", SERVICE, {**PROD, "template.scaling": {"maxInstanceCount": 2}}),
            res(CLOUD_RUN, "prod-warm", SERVICE, {**PROD, "template.scaling.minInstanceCount": 1}),
            res(
                CLOUD_RUN,
                "prod-manual",
                SERVICE,
                {**PROD, "scaling": {"scalingMode": "MANUAL", "manualInstanceCount": 2}},
            ),
            res(CLOUD_RUN, "prod-private", PRIVATE_SERVICE, PROD),
            res(CLOUD_RUN, "dev-scales-to-zero", SERVICE),
        ],
        passing={"prod-warm", "prod-manual", "prod-private", "dev-scales-to-zero"},
        failing={"prod-scales-to-zero", "prod-no-scaling"},
    ),
    case(
        "knative-prod-cold-starts",
        [
            res(KNATIVE, "prod-scales-to-zero", KNATIVE_SERVICE, {"metadata.labels.stack": "prod"}),
            res(
                KNATIVE,
                "prod-min-zero",
                KNATIVE_SERVICE,
                {"metadata.labels.stack": "prod", ANNOTATIONS: {f"{PREFIX}/min-scale": "0"}},
            ),
            res(
                KNATIVE,
                "prod-warm",
                KNATIVE_SERVICE,
                {"metadata.labels.stack": "prod", ANNOTATIONS: {f"{PREFIX}/min-scale": "1"}},
            ),
            res(
                KNATIVE,
                "prod-steady",
                KNATIVE_SERVICE,
                {
                    "metadata.labels.stack": "prod",
                    ANNOTATIONS: {f"{PREFIX}/min-scale": "0", f"{PREFIX}/scale-down-delay": "900s"},
                },
            ),
            res(KNATIVE, "prod-private", PRIVATE_KNATIVE_SERVICE, {"metadata.labels.stack": "prod"}),
            res(KNATIVE, "gke-scales-to-zero", KNATIVE_SERVICE),
        ],
        passing={"prod-warm", "prod-steady", "prod-private", "gke-scales-to-zero"},
        failing={"prod-scales-to-zero", "prod-min-zero"},
    ),
]
