"""The Knative Service of the GKE path: the same image and secret rules as Cloud Run, and
cluster-local visibility when the stack says private."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from policy import tokens
from policy.rule import Level, Rule
from policy.rules.cloud_run_access import ACCESS_VALUES
from policy.rules.cloud_run_env import env_problems
from policy.rules.cloud_run_image import by_digest, in_artifact_registry
from policy.rules.cloud_run_template import label
from policy.values import get, is_unknown, objects

SERVICE = frozenset({tokens.KNATIVE_SERVICE})
VISIBILITY = "networking.knative.dev/visibility"


def _containers(inputs: Mapping[str, Any]) -> list[dict[str, Any]]:
    return list(objects(get(inputs, "spec.template.spec.containers")))


def _images(_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    for index, container in enumerate(_containers(inputs)):
        image = container.get("image")
        if not isinstance(image, str):
            continue
        if not in_artifact_registry(image):
            yield f"{label(container, index)} image {image} is not in Artifact Registry"
        elif not by_digest(image):
            yield f"{label(container, index)} image {image} is not pinned by digest"


def _secrets(_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    for index, container in enumerate(_containers(inputs)):
        yield from env_problems(label(container, index), container.get("env"))


def _read_only_root(_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    for index, container in enumerate(_containers(inputs)):
        context = container.get("securityContext")
        flag = context.get("readOnlyRootFilesystem") if isinstance(context, Mapping) else None
        if is_unknown(context) or is_unknown(flag):
            continue
        if flag is not True:
            yield f"{label(container, index)} does not set securityContext.readOnlyRootFilesystem: true"


def _visibility(_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    labels = get(inputs, "metadata.labels")
    if is_unknown(labels):
        return
    labels = labels if isinstance(labels, Mapping) else {}
    # Read by key: the label name itself contains dots.
    access, visibility = labels.get("access"), labels.get(VISIBILITY)
    if is_unknown(access) or is_unknown(visibility):
        return
    if access not in ACCESS_VALUES:
        shown = "missing" if access is None else repr(access)
        yield f"the `access` label is {shown}, so whether it may be reachable from outside cannot be told"
    elif access == "private" and visibility != "cluster-local":
        yield (
            "a service labelled access=private is published on the ingress gateway "
            f"({VISIBILITY} is not cluster-local)"
        )


RULES = [
    Rule(
        name="knative-image-pinned",
        level=Level.MANDATORY,
        what="Knative Service containers run images from Artifact Registry, referenced by digest.",
        why=(
            "As on Cloud Run: a tag can be re-pushed under a running service, and the nodes' "
            "service account may only read the project's own registry."
        ),
        fix="deploy the pushed image's repo digest (REGION-docker.pkg.dev/…@sha256:…)",
        types=SERVICE,
        check=_images,
    ),
    Rule(
        name="knative-no-plaintext-secrets",
        level=Level.MANDATORY,
        what="Knative Service env vars hold no plain values that look like secrets.",
        why=(
            "Plain env values are readable by anyone who can get the Service or its Revisions "
            "(and sit in Pulumi state)."
        ),
        fix=(
            "keep the secret in Secret Manager and read it through Workload Identity, or use "
            "env.valueFrom.secretKeyRef"
        ),
        types=SERVICE,
        check=_secrets,
    ),
    Rule(
        name="knative-read-only-root",
        level=Level.MANDATORY,
        what="Knative Service containers run with a read-only root filesystem.",
        why=(
            "The image writes only to /tmp; a writable root lets code run through a request or "
            "model-loading bug change the served code or model, and persist until the pod goes."
        ),
        fix="set securityContext.readOnlyRootFilesystem: true and mount an emptyDir at /tmp",
        types=SERVICE,
        check=_read_only_root,
    ),
    Rule(
        name="knative-private-visibility",
        level=Level.MANDATORY,
        what=(
            "A Knative Service carries an `access` label, and one labelled access=private is "
            "cluster-local (networking.knative.dev/visibility)."
        ),
        why=(
            "Knative has no IAM invoker check: without the cluster-local label every Service is "
            "published on the public ingress, so private means cluster-local or nothing."
        ),
        fix='label the Service networking.knative.dev/visibility="cluster-local" unless the stack is public',
        types=SERVICE,
        check=_visibility,
    ),
]
