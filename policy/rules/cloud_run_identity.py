"""The Cloud Run runtime identity: a dedicated service account, never the Compute default."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from policy import tokens
from policy.rule import Level, Rule
from policy.values import get, is_default_service_account, is_unknown


def _check(_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    account = get(inputs, "template.serviceAccount")
    if is_unknown(account):
        return  # the account's e-mail is an output of a resource created in the same update
    if account is None or account == "":
        yield "template.serviceAccount is unset, so the revision runs as the Compute Engine default account"
    elif is_default_service_account(account):
        yield f"template.serviceAccount {account} is a default service account"


RULES = [
    Rule(
        name="cloudrun-dedicated-service-account",
        level=Level.MANDATORY,
        what="Cloud Run revisions run as a dedicated service account, not the Compute Engine default.",
        why=(
            "The default account has Editor on the whole project, so any code execution in the "
            "container (a model-loading or request-parsing bug) becomes project takeover. The "
            "ids are the same rule for Compute VMs; none covers Cloud Run."
        ),
        fix=(
            "create a service account for the service (no project roles unless it calls GCP APIs) and set "
            "template.serviceAccount"
        ),
        ids=("CKV_GCP_30", "AVD-GCP-0044", "CIS GCP 4.1"),
        types=frozenset({tokens.CLOUD_RUN_SERVICE}),
        check=_check,
    ),
]
