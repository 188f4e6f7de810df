"""A hardened GKE Standard cluster for the Knative path, and the Kubernetes provider bound to it."""

from infra.components.gke.cluster import GkeCluster
from infra.components.gke.config import NODE_ROLES, GkeClusterArgs, kubeconfig

__all__ = ["NODE_ROLES", "GkeCluster", "GkeClusterArgs", "kubeconfig"]
