"""Knative Serving on the GKE cluster: `manifests` (pure builders), `install` (the pinned
release and its config), `service` (the model service from the same spec as Cloud Run)."""

from infra.components.knative.install import KnativeInstall, KnativeInstallArgs
from infra.components.knative.manifests import knative_curl_example
from infra.components.knative.service import KnativeModelService, KnativeModelServiceArgs

__all__ = [
    "KnativeInstall",
    "KnativeInstallArgs",
    "KnativeModelService",
    "KnativeModelServiceArgs",
    "knative_curl_example",
]
