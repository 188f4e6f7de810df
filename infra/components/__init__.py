"""The project's ComponentResources. Each is a plain function of its Args: none reads settings
or `pulumi.Config` (infra/plan.py builds the Args)."""

from __future__ import annotations

from typing import Any

import pulumi

from infra import PROJECT


def type_token(component: str) -> str:
    """The fixed type token of one of this project's components."""
    return f"{PROJECT}:index:{component}"


def child_options(parent: pulumi.Resource, opts: pulumi.ResourceOptions | None) -> pulumi.ResourceOptions:
    """Options for a component's child: parented to it, and waiting on what the component waits
    on. The engine does not hand a component's `depends_on` down to its children, so without this
    a Cloud Run service could be created before the Cloud Run API is enabled."""
    depends_on = opts.depends_on if opts else None
    if depends_on is None:
        depends_on = []
    elif not isinstance(depends_on, (list, tuple)):
        depends_on = [depends_on]
    return pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on))


def kube(
    child: pulumi.ResourceOptions, provider: pulumi.ProviderResource, *after: pulumi.Resource, **extra: Any
) -> pulumi.ResourceOptions:
    """A Kubernetes child's options: every object names the cluster's provider itself, never an
    ambient one, and waits for `after`."""
    return pulumi.ResourceOptions.merge(
        child, pulumi.ResourceOptions(provider=provider, depends_on=list(after), **extra)
    )
