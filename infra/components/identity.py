"""The runtime identity of the model service: a dedicated service account, least privilege."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from infra.components import child_options, type_token

BASIC_ROLES = ("roles/owner", "roles/editor", "roles/viewer")


class IdentityError(ValueError):
    pass


@dataclass(frozen=True)
class RuntimeIdentityArgs:
    project: pulumi.Input[str]
    account_id: str  # 6-30 chars: lowercase letters, digits, '-'
    display_name: str
    # Project roles the container itself needs. The QA service calls no Google API and logs to
    # stdout (collected by the platform), so by default it gets none; the image is pulled by the
    # Cloud Run service agent, not by this account.
    roles: Sequence[str] = field(default_factory=tuple)


class RuntimeIdentity(pulumi.ComponentResource):
    """A service account for the container — never the Compute Engine default account, which has
    Editor on the whole project."""

    account: gcp.serviceaccount.Account
    email: pulumi.Output[str]
    member: pulumi.Output[str]

    def __init__(self, name: str, args: RuntimeIdentityArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(type_token("RuntimeIdentity"), name, None, opts)
        for role in args.roles:
            if role in BASIC_ROLES:
                raise IdentityError(f"{role} is a basic role; grant the narrow role the container needs")
        self.account = gcp.serviceaccount.Account(
            f"{name}-account",
            project=args.project,
            account_id=args.account_id,
            display_name=args.display_name,
            description="Runtime identity of the question-answering service (managed by Pulumi)",
            opts=child_options(self, opts),
        )
        self.email = self.account.email
        self.member = self.account.member
        for role in args.roles:
            gcp.projects.IAMMember(
                f"{name}-{role.removeprefix('roles/').replace('.', '-')}",
                project=args.project,
                role=role,
                member=self.member,
                opts=child_options(self, opts),
            )
        self.register_outputs({"email": self.email, "member": self.member})
