"""Where the Cloud Run image comes from, and how it is pinned."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from policy import tokens
from policy.rule import Level, Rule
from policy.rules.cloud_run_template import containers, label

# REGION-docker.pkg.dev or a multi-region (us-, europe-, asia-docker.pkg.dev).
_ARTIFACT_REGISTRY = re.compile(r"^[a-z0-9-]+-docker\.pkg\.dev/[^/]+/[^/]+/.+")
_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def _images(inputs: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for index, container in enumerate(containers(inputs)):
        image = container.get("image")
        if isinstance(image, str):  # unknown until the image is pushed: nothing to judge
            yield label(container, index), image


def in_artifact_registry(image: str) -> bool:
    return bool(_ARTIFACT_REGISTRY.match(image))


def by_digest(image: str) -> bool:
    return bool(_DIGEST.search(image))


def _from_artifact_registry(_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    for where, image in _images(inputs):
        if not in_artifact_registry(image):
            yield f"{where} image {image} is not in Artifact Registry"


def _by_digest(_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    for where, image in _images(inputs):
        if not by_digest(image):
            yield f"{where} image {image} is not pinned by digest"


RULES = [
    Rule(
        name="cloudrun-image-from-artifact-registry",
        level=Level.MANDATORY,
        what="Cloud Run containers run images from Artifact Registry (REGION-docker.pkg.dev).",
        why=(
            "Images from the project's own registry are scanned, access-controlled and kept "
            "within the project; Container Registry (gcr.io) is shut down and public registries "
            "are outside your control."
        ),
        fix="build and push the image to the stack's Artifact Registry repository (leave `image` unset)",
        types=frozenset({tokens.CLOUD_RUN_SERVICE}),
        check=_from_artifact_registry,
    ),
    Rule(
        name="cloudrun-image-by-digest",
        level=Level.MANDATORY,
        what="Cloud Run containers reference their image by digest (…@sha256:…), never by tag.",
        why=(
            "A tag can be re-pushed, so what runs would change without a deploy, and a same-tag "
            "image does not roll out a new revision; a digest is immutable and reviewable."
        ),
        fix="deploy the pushed image's repo digest (NAME@sha256:…), e.g. the image component's `ref`",
        types=frozenset({tokens.CLOUD_RUN_SERVICE}),
        check=_by_digest,
    ),
]
