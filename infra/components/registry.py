"""Artifact Registry Docker repository for the model images, with a cleanup policy."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from infra.components import child_options, type_token

# Untagged and superseded images older than this go, except the newest `keep_versions`.
DELETE_OLDER_THAN = "604800s"  # 7 days: a rollback window before cleanup may delete an image


@dataclass(frozen=True)
class ArtifactRepositoryArgs:
    project: pulumi.Input[str]
    location: pulumi.Input[str]
    repository_id: str
    keep_versions: int
    labels: dict[str, str] = field(default_factory=dict)


def cleanup_policies(keep_versions: int) -> list[gcp.artifactregistry.RepositoryCleanupPolicyArgs]:
    """Keep the newest N versions; delete anything older than a week beyond those.

    Artifact Registry applies KEEP before DELETE, so the deployed image (one of the newest) is
    never deleted while it is live — images are several hundred MB each and storage is billed.
    """
    return [
        gcp.artifactregistry.RepositoryCleanupPolicyArgs(
            id="keep-newest",
            action="KEEP",
            most_recent_versions=gcp.artifactregistry.RepositoryCleanupPolicyMostRecentVersionsArgs(
                keep_count=keep_versions,
            ),
        ),
        gcp.artifactregistry.RepositoryCleanupPolicyArgs(
            id="delete-old",
            action="DELETE",
            condition=gcp.artifactregistry.RepositoryCleanupPolicyConditionArgs(
                tag_state="ANY",
                older_than=DELETE_OLDER_THAN,
            ),
        ),
    ]


class ArtifactRepository(pulumi.ComponentResource):
    """A private Docker repository; `url` is the prefix image names go under."""

    repository: gcp.artifactregistry.Repository
    url: pulumi.Output[str]

    def __init__(self, name: str, args: ArtifactRepositoryArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(type_token("ArtifactRepository"), name, None, opts)
        self.repository = gcp.artifactregistry.Repository(
            f"{name}-repository",
            project=args.project,
            location=args.location,
            repository_id=args.repository_id,
            format="DOCKER",
            description="Model-serving images built by the serverless-qa Pulumi project",
            cleanup_policy_dry_run=False,
            cleanup_policies=cleanup_policies(args.keep_versions),
            labels=args.labels,
            opts=child_options(self, opts),
        )
        self.url = pulumi.Output.concat(
            self.repository.location,
            "-docker.pkg.dev/",
            self.repository.project,
            "/",
            self.repository.repository_id,
        )
        self.register_outputs({"url": self.url})
