"""Artifact Registry repositories: private, and cleaned up."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from policy import tokens
from policy.grants import grants
from policy.rule import Level, Rule
from policy.values import get, is_true, is_unknown, objects


def _public(_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    for grant in grants(inputs):
        if grant.public:
            yield f"{grant.role} on the repository is granted to {grant.member}"


def _cleanup(_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    policies, dry_run = get(inputs, "cleanupPolicies"), get(inputs, "cleanupPolicyDryRun")
    if is_unknown(policies) or is_unknown(dry_run):
        return
    if isinstance(policies, list) and any(is_unknown(p) for p in policies):
        return
    actions = [p.get("action") for p in objects(policies)]
    if any(is_unknown(a) for a in actions):
        return
    if "DELETE" not in actions:
        yield "the repository has no DELETE cleanup policy, so every pushed image is kept (and billed)"
    elif is_true(dry_run):
        yield "cleanupPolicyDryRun is true, so the cleanup policies delete nothing"


RULES = [
    Rule(
        name="artifact-registry-not-public",
        level=Level.MANDATORY,
        what="Artifact Registry repositories grant nothing to allUsers or allAuthenticatedUsers.",
        why=(
            "The image holds the model weights and the serving code; a public repository gives "
            "them to anyone, and a public writer can replace what production pulls."
        ),
        fix=(
            "grant roles/artifactregistry.reader to the identities that pull (the Cloud Run service agent "
            "needs none in the same project)"
        ),
        ids=("CKV_GCP_101", "CIS GKE 5.1.2"),
        types=tokens.ARTIFACT_REPOSITORY_IAM,
        check=_public,
    ),
    Rule(
        name="artifact-registry-cleanup-policy",
        level=Level.MANDATORY,
        what="Artifact Registry repositories have an active DELETE cleanup policy (not dry-run).",
        why=(
            "Every deploy pushes a multi-hundred-MB model image; without cleanup storage grows "
            "(and is billed) forever. Pair it with a KEEP policy so recent images survive for rollback."
        ),
        fix=(
            "add cleanupPolicies with a DELETE condition and a KEEP mostRecentVersions, and "
            "cleanupPolicyDryRun=false"
        ),
        types=frozenset({tokens.ARTIFACT_REPOSITORY}),
        check=_cleanup,
    ),
]
