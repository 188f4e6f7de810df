"""The (role, member) pairs an IAM resource grants, whatever its flavour.

`…IamMember` has `role` + `member`, `…IamBinding` has `role` + `members`, `…IamPolicy` has the
whole policy as a JSON string in `policyData`. Unknown or unreadable parts are left out: a rule
cannot judge them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from policy.values import get, is_unknown, objects, strings

PUBLIC_MEMBERS = frozenset({"allUsers", "allAuthenticatedUsers"})
BASIC_ROLES = frozenset({"roles/owner", "roles/editor", "roles/viewer"})


@dataclass(frozen=True)
class Grant:
    role: str
    member: str

    @property
    def public(self) -> bool:
        return self.member in PUBLIC_MEMBERS


def grants(inputs: Mapping[str, Any]) -> list[Grant]:
    role = get(inputs, "role")
    if isinstance(role, str):
        member = get(inputs, "member")
        members = [member] if isinstance(member, str) else list(strings(get(inputs, "members")))
        return [Grant(role, m) for m in members]
    policy = get(inputs, "policyData")
    if isinstance(policy, str) and not is_unknown(policy):
        return _policy_grants(policy)
    return []


def _policy_grants(policy_data: str) -> list[Grant]:
    try:
        policy = json.loads(policy_data)
    except ValueError:
        return []  # a secret placeholder, or not JSON: nothing readable to judge
    found = []
    for binding in objects(policy.get("bindings") if isinstance(policy, dict) else None):
        role = binding.get("role")
        if isinstance(role, str):
            found += [Grant(role, m) for m in strings(binding.get("members"))]
    return found
