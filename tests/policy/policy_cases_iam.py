"""Passing and failing fixtures for the IAM, Artifact Registry and API rules."""

from __future__ import annotations

import json

from policy_helpers import (
    BUCKET_IAM_MEMBER,
    CLOUD_RUN_IAM_MEMBER,
    DELETE,
    PROJECT_IAM_BINDING,
    PROJECT_IAM_MEMBER,
    PROJECT_IAM_POLICY,
    PROJECT_SERVICE,
    REPOSITORY,
    REPOSITORY_IAM_BINDING,
    REPOSITORY_IAM_MEMBER,
    SA_ACCOUNT,
    SA_IAM_MEMBER,
    SA_KEY,
    case,
    res,
)

RUNTIME = "serviceAccount:qa-runtime@example-project.iam.gserviceaccount.com"
COMPUTE_DEFAULT = "serviceAccount:123456789012-compute@developer.gserviceaccount.com"


def member(resource_type: str, name: str, role: str, who: str):
    return res(resource_type, name, {"project": "example-project", "role": role, "member": who})


def policy(name: str, bindings: list[dict]):
    return res(
        PROJECT_IAM_POLICY,
        name,
        {"project": "example-project", "policyData": json.dumps({"bindings": bindings})},
    )


REPOSITORY_INPUTS = {
    "cleanupPolicies": [
        {"action": "KEEP", "id": "keep-newest", "mostRecentVersions": {"keepCount": 10}},
        {"action": "DELETE", "condition": {"olderThan": "604800s", "tagState": "ANY"}, "id": "delete-old"},
    ],
    "cleanupPolicyDryRun": False,
    "format": "DOCKER",
    "location": "us-central1",
    "repositoryId": "qa-images",
}

CASES = [
    case(
        "iam-no-public-members",
        [
            member(BUCKET_IAM_MEMBER, "bucket-reader", "roles/storage.objectViewer", RUNTIME),
            # Cloud Run invokers have their own rule, which knows whether public is intended.
            member(CLOUD_RUN_IAM_MEMBER, "run-invoker", "roles/run.invoker", "allUsers"),
            member(BUCKET_IAM_MEMBER, "public-bucket", "roles/storage.objectViewer", "allUsers"),
            member(SA_IAM_MEMBER, "anyone-acts-as", "roles/iam.serviceAccountUser", "allAuthenticatedUsers"),
            res(
                PROJECT_IAM_BINDING,
                "public-binding",
                {"role": "roles/logging.viewer", "members": ["group:ops@example.com", "allUsers"]},
            ),
        ],
        passing={"bucket-reader"},
        failing={"public-bucket", "anyone-acts-as", "public-binding"},
        ignored={"run-invoker"},
    ),
    case(
        "iam-no-basic-roles",
        [
            member(PROJECT_IAM_MEMBER, "log-writer", "roles/logging.logWriter", RUNTIME),
            policy("narrow-policy", [{"role": "roles/run.invoker", "members": [RUNTIME]}]),
            member(PROJECT_IAM_MEMBER, "editor", "roles/editor", RUNTIME),
            member(SA_IAM_MEMBER, "owner-on-account", "roles/owner", "user:a@example.com"),
            res(
                PROJECT_IAM_BINDING,
                "viewer-binding",
                {"role": "roles/viewer", "members": ["group:all@example.com"]},
            ),
            policy("policy-with-owner", [{"role": "roles/owner", "members": ["user:a@example.com"]}]),
        ],
        passing={"log-writer", "narrow-policy"},
        failing={"editor", "owner-on-account", "viewer-binding", "policy-with-owner"},
    ),
    case(
        "iam-no-project-sa-impersonation",
        [
            member(PROJECT_IAM_MEMBER, "project-invoker", "roles/run.invoker", "user:a@example.com"),
            member(
                PROJECT_IAM_MEMBER, "project-sa-user", "roles/iam.serviceAccountUser", "user:a@example.com"
            ),
            res(
                "gcp:folder/iAMMember:IAMMember",
                "folder-token-creator",
                {
                    "folder": "folders/1",
                    "role": "roles/iam.serviceAccountTokenCreator",
                    "member": "group:ci@example.com",
                },
            ),
            policy(
                "policy-sa-user",
                [{"role": "roles/iam.serviceAccountUser", "members": ["user:b@example.com"]}],
            ),
        ],
        passing={"project-invoker"},
        failing={"project-sa-user", "folder-token-creator", "policy-sa-user"},
    ),
    case(
        "iam-no-default-sa-grants",
        [
            member(PROJECT_IAM_MEMBER, "dedicated-writer", "roles/logging.logWriter", RUNTIME),
            member(
                PROJECT_IAM_MEMBER, "user-named-default", "roles/logging.viewer", "user:default@example.com"
            ),
            member(PROJECT_IAM_MEMBER, "compute-default", "roles/storage.admin", COMPUTE_DEFAULT),
            res(
                PROJECT_IAM_BINDING,
                "appspot-default",
                {
                    "role": "roles/datastore.user",
                    "members": ["serviceAccount:example-project@appspot.gserviceaccount.com"],
                },
            ),
        ],
        passing={"dedicated-writer", "user-named-default"},
        failing={"compute-default", "appspot-default"},
    ),
    case(
        "iam-no-user-managed-sa-keys",
        [
            res(SA_ACCOUNT, "runtime-account", {"accountId": "qa-runtime"}),
            res(SA_ACCOUNT, "ci-account", {"accountId": "qa-ci"}),
            res(
                SA_KEY,
                "ci-key",
                {"serviceAccountId": "projects/p/serviceAccounts/qa-ci@p.iam.gserviceaccount.com"},
            ),
            res(SA_KEY, "other-key", {"serviceAccountId": "someone-else"}),
        ],
        passing={"runtime-account", "ci-account"},
        failing={"ci-key", "other-key"},
    ),
    case(
        "artifact-registry-not-public",
        [
            member(REPOSITORY_IAM_MEMBER, "ci-writer", "roles/artifactregistry.writer", RUNTIME),
            member(REPOSITORY_IAM_MEMBER, "public-reader", "roles/artifactregistry.reader", "allUsers"),
            res(
                REPOSITORY_IAM_BINDING,
                "any-google-account",
                {"role": "roles/artifactregistry.reader", "members": ["allAuthenticatedUsers"]},
            ),
        ],
        passing={"ci-writer"},
        failing={"public-reader", "any-google-account"},
    ),
    case(
        "artifact-registry-cleanup-policy",
        [
            res(REPOSITORY, "keep-and-delete", REPOSITORY_INPUTS),
            res(REPOSITORY, "delete-only", REPOSITORY_INPUTS, {"cleanupPolicies.0": DELETE}),
            res(REPOSITORY, "no-policies", REPOSITORY_INPUTS, {"cleanupPolicies": DELETE}),
            res(REPOSITORY, "keep-only", REPOSITORY_INPUTS, {"cleanupPolicies.1": DELETE}),
            res(REPOSITORY, "dry-run", REPOSITORY_INPUTS, {"cleanupPolicyDryRun": True}),
        ],
        passing={"keep-and-delete", "delete-only"},
        failing={"no-policies", "keep-only", "dry-run"},
    ),
    case(
        "apis-keep-on-destroy",
        [
            res(PROJECT_SERVICE, "run-api", {"service": "run.googleapis.com", "disableOnDestroy": False}),
            res(PROJECT_SERVICE, "default-disables", {"service": "iam.googleapis.com"}),
            res(PROJECT_SERVICE, "disables", {"service": "run.googleapis.com", "disableOnDestroy": True}),
            res(
                PROJECT_SERVICE,
                "takes-dependents",
                {
                    "service": "compute.googleapis.com",
                    "disableOnDestroy": False,
                    "disableDependentServices": True,
                },
            ),
        ],
        passing={"run-api"},
        failing={"default-disables", "disables", "takes-dependents"},
    ),
]
