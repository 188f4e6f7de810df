"""IAM grants anywhere in the stack: public principals, basic roles, impersonation, default
accounts, and user-managed service account keys."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from policy import tokens
from policy.grants import BASIC_ROLES, grants
from policy.rule import Level, Resource, Rule, StackRule
from policy.values import get, is_default_service_account

# Either role on a project (folder, organization) lets the holder act as *every* service
# account in it — including ones with far more access than the holder.
IMPERSONATION_ROLES = frozenset({"roles/iam.serviceAccountUser", "roles/iam.serviceAccountTokenCreator"})

# Public grants on these have their own rules, which know what is intended there.
_OWN_RULES = tokens.CLOUD_RUN_IAM | tokens.ARTIFACT_REPOSITORY_IAM


def _other_iam(resource_type: str) -> bool:
    return tokens.is_iam_grant(resource_type) and resource_type not in _OWN_RULES


def _hierarchy_iam(resource_type: str) -> bool:
    return resource_type in tokens.HIERARCHY_IAM


def _level(resource_type: str) -> str:
    return resource_type.split(":", 2)[1].split("/", 1)[0].removesuffix("s")  # project, folder…


def _public(_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    for grant in grants(inputs):
        if grant.public:
            yield f"{grant.role} is granted to {grant.member}"


def _basic(_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    for grant in grants(inputs):
        if grant.role in BASIC_ROLES:
            yield f"{grant.member} is granted the basic role {grant.role}"


def _impersonation(resource_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    for grant in grants(inputs):
        if grant.role in IMPERSONATION_ROLES:
            yield f"{grant.member} is granted {grant.role} on the whole {_level(resource_type)}"


def _default_accounts(resource_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    for grant in grants(inputs):
        if grant.member.startswith("serviceAccount:") and is_default_service_account(grant.member):
            yield f"{grant.role} is granted to the default account {grant.member.split(':', 1)[1]}"


def _keys(resources: Sequence[Resource]) -> Iterator[tuple[Resource, str]]:
    """Each key, named by the account it belongs to where that account is in the stack."""
    accounts = [r for r in resources if r.type == tokens.SERVICE_ACCOUNT]
    for key in resources:
        if key.type != tokens.SERVICE_ACCOUNT_KEY:
            continue
        owner = _owner(get(key.inputs, "serviceAccountId"), key, accounts)
        yield key, (f"a user-managed key is created for {owner} (its private key is kept in Pulumi state)")


def _owner(account_id: Any, key: Resource, accounts: Sequence[Resource]) -> str:
    if isinstance(account_id, str):
        # serviceAccountId is an account id, an e-mail or projects/…/serviceAccounts/EMAIL.
        wanted = account_id.rsplit("/", 1)[-1].split("@", 1)[0]
        for account in accounts:
            if get(account.inputs, "accountId") == wanted:
                return f"service account {wanted} ({account.name})"
        return f"service account {wanted}"
    siblings = [a for a in accounts if key.parent is not None and a.parent == key.parent]
    return f"service account {siblings[0].name}" if len(siblings) == 1 else "a service account"


RULES = [
    Rule(
        name="iam-no-public-members",
        level=Level.MANDATORY,
        what=(
            "No IAM grant gives anything to allUsers or allAuthenticatedUsers (Cloud Run invokers "
            "and Artifact Registry repositories have their own rules)."
        ),
        why=(
            "allAuthenticatedUsers is any Google account, not your users: either principal makes "
            "the resource — a bucket, a secret, a service account — public."
        ),
        fix="grant the role to the specific users, groups or service accounts that need it",
        ids=("CKV_GCP_28", "CKV_GCP_101", "CKV_GCP_102"),
        applies=_other_iam,
        check=_public,
    ),
    Rule(
        name="iam-no-basic-roles",
        level=Level.MANDATORY,
        what="No IAM grant uses a basic role (roles/owner, roles/editor, roles/viewer).",
        why=(
            "Basic roles span thousands of permissions across every service in the project; a "
            "compromised holder — often a service account — can do nearly anything."
        ),
        fix="grant the narrowest predefined role that covers what the member does (e.g. roles/run.invoker)",
        ids=("CKV_GCP_117", "AVD-GCP-0007", "CIS GCP 1.5"),
        applies=tokens.is_iam_grant,
        check=_basic,
    ),
    Rule(
        name="iam-no-project-sa-impersonation",
        level=Level.MANDATORY,
        what=("Service Account User / Token Creator are not granted on a project, folder or organization."),
        why=(
            "At that level they let the member act as every service account in it, including "
            "the most privileged — a privilege escalation path."
        ),
        fix="grant the role on the one service account that must be used (a serviceaccount IAM member)",
        ids=("CKV_GCP_41", "CKV_GCP_49", "AVD-GCP-0011", "CIS GCP 1.6"),
        applies=_hierarchy_iam,
        check=_impersonation,
    ),
    Rule(
        name="iam-no-default-sa-grants",
        level=Level.MANDATORY,
        what="No project, folder or organization role is granted to a default service account.",
        why=(
            "The Compute Engine and App Engine default accounts are attached to workloads by "
            "default; granting them more power hands it to everything that runs as them."
        ),
        fix="grant the role to a dedicated service account for the workload that needs it",
        ids=("CKV_GCP_46", "AVD-GCP-0006"),
        applies=_hierarchy_iam,
        check=_default_accounts,
    ),
    StackRule(
        name="iam-no-user-managed-sa-keys",
        level=Level.MANDATORY,
        what="No user-managed service account keys (gcp.serviceaccount.Key) are created.",
        why=(
            "A key is a long-lived bearer credential that never expires on its own, and Pulumi "
            "keeps the private key in state; Cloud Run, GKE Workload Identity and CI's Workload "
            "Identity Federation need none."
        ),
        fix="remove the key; attach the service account to the workload or use Workload Identity Federation",
        ids=("CIS GCP 1.4",),
        # Accounts are read to name the key's owner; only keys are ever reported.
        types=frozenset({tokens.SERVICE_ACCOUNT, tokens.SERVICE_ACCOUNT_KEY}),
        check_stack=_keys,
    ),
]
