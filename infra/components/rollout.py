"""What both service components share for rollouts: the content-named revision and the phase's
outputs. The decisions themselves are pure (infra.rollout.revisions / traffic)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from infra.rollout.revisions import revision_name, spec_fields
from infra.rollout.traffic import Phase, RolloutArgs
from infra.spec import ModelServiceSpec


def content_revision(spec: ModelServiceSpec, **template_inputs: pulumi.Input[Any]) -> pulumi.Output[str]:
    """`SERVICE-r<hash>` of the image digest, the spec and the platform's other template inputs."""
    inputs: Mapping[str, Any] = {"image": spec.image, **template_inputs}
    return pulumi.Output.all(**inputs).apply(
        lambda known: revision_name(
            spec.name, known["image"], spec_fields(spec, **{k: v for k, v in known.items() if k != "image"})
        )
    )


def rollout_phase(rollout: RolloutArgs, revision: pulumi.Output[str]) -> pulumi.Output[Phase]:
    return revision.apply(rollout.phase)


# What either service component outputs (the program exports them and the rollout reads them):
# one list, so the two platforms cannot come to differ.
SERVICE_OUTPUTS = (
    "url",
    "service_name",
    "latest_revision",
    "new_revision",
    "serving_revision",
    "candidate_revision",
    "candidate_percent",
    "previous_revision",
    "candidate_url",
)


def service_outputs(component: pulumi.ComponentResource) -> dict[str, Any]:
    """The component's SERVICE_OUTPUTS, for its `register_outputs`."""
    return {name: getattr(component, name) for name in SERVICE_OUTPUTS}
