"""The Pulumi side of the project: settings, platform limits and the components."""

from __future__ import annotations

import pulumi

PROJECT = "serverless-qa"


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
