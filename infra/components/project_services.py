"""Enables the Google APIs a stack needs, and leaves them enabled on destroy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from infra.components import child_options, type_token


@dataclass(frozen=True)
class ProjectServicesArgs:
    project: pulumi.Input[str]
    apis: Sequence[str]  # e.g. "run.googleapis.com"


class ProjectServices(pulumi.ComponentResource):
    """One `gcp.projects.Service` per API.

    `disable_on_destroy=False`: other workloads in the project may use the same APIs, and
    disabling one on `pulumi destroy` would break them (and fails when anything still uses it).
    """

    resources: list[pulumi.Resource]
    apis: pulumi.Output[list[str]]

    def __init__(self, name: str, args: ProjectServicesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(type_token("ProjectServices"), name, None, opts)
        self.resources = [
            gcp.projects.Service(
                f"{name}-{api.split('.')[0]}",
                project=args.project,
                service=api,
                disable_on_destroy=False,
                opts=child_options(self, opts),
            )
            for api in sorted(set(args.apis))
        ]
        self.apis = pulumi.Output.all(*[s.service for s in self.resources])
        self.register_outputs({"apis": self.apis})
