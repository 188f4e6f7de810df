"""A Knative Service as a Pulumi CustomResource that also surfaces `status`."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s


class KnativeServiceResource(k8s.apiextensions.CustomResource):
    """A CustomResource that also surfaces `status`: the base class only resolves the outputs it
    declares (apiVersion, kind, metadata, spec), and the service URL lives in status."""

    status: pulumi.Output[Any]

    def _internal_init(  # noqa: PLR0917 — the signature CustomResource.__init__ calls
        self,
        resource_name: str,
        api_version: str,
        kind: str,
        opts: pulumi.ResourceOptions | None = None,
        metadata: Any = None,
        spec: Any = None,
        __props__: Any = None,
    ) -> None:
        props = k8s.apiextensions.CustomResourceArgs.__new__(k8s.apiextensions.CustomResourceArgs)
        props.__dict__.update(api_version=api_version, kind=kind, metadata=metadata, spec=spec, status=None)
        pulumi.CustomResource.__init__(self, f"kubernetes:{api_version}:{kind}", resource_name, props, opts)
