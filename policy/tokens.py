"""Pulumi type tokens of the resources the rules look at (pulumi-gcp 10.x wire names)."""

from __future__ import annotations

CLOUD_RUN_SERVICE = "gcp:cloudrunv2/service:Service"
CLOUD_RUN_IAM = frozenset(
    {
        "gcp:cloudrunv2/serviceIamMember:ServiceIamMember",
        "gcp:cloudrunv2/serviceIamBinding:ServiceIamBinding",
        "gcp:cloudrunv2/serviceIamPolicy:ServiceIamPolicy",
        # The v1 API's IAM resources name the same services.
        "gcp:cloudrun/iamMember:IamMember",
        "gcp:cloudrun/iamBinding:IamBinding",
        "gcp:cloudrun/iamPolicy:IamPolicy",
    }
)

ARTIFACT_REPOSITORY = "gcp:artifactregistry/repository:Repository"
ARTIFACT_REPOSITORY_IAM = frozenset(
    {
        "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember",
        "gcp:artifactregistry/repositoryIamBinding:RepositoryIamBinding",
        "gcp:artifactregistry/repositoryIamPolicy:RepositoryIamPolicy",
    }
)

PROJECT_SERVICE = "gcp:projects/service:Service"

# The global front door (infra/components/front_door).
BACKEND_SERVICE = "gcp:compute/backendService:BackendService"
SECURITY_POLICY = "gcp:compute/securityPolicy:SecurityPolicy"
REGION_NEG = "gcp:compute/regionNetworkEndpointGroup:RegionNetworkEndpointGroup"
SERVICE_ACCOUNT = "gcp:serviceaccount/account:Account"
SERVICE_ACCOUNT_KEY = "gcp:serviceaccount/key:Key"

# IAM on the resource hierarchy itself: a grant here reaches every resource below it.
HIERARCHY_IAM = frozenset(
    f"gcp:{module}/iAM{kind}:IAM{kind}"
    for module in ("projects", "folder", "organizations")
    for kind in ("Member", "Binding", "Policy")
)

GKE_CLUSTER = "gcp:container/cluster:Cluster"
# A Knative Service as pulumi-kubernetes registers a CustomResource (apiVersion/kind).
KNATIVE_SERVICE = "kubernetes:serving.knative.dev/v1:Service"
GKE_NODE_POOL = "gcp:container/nodePool:NodePool"


def is_iam_grant(resource_type: str) -> bool:
    """Any pulumi-gcp IAM member / binding / policy resource (`…IamMember`, `…IAMBinding`…),
    on the hierarchy or on a single resource."""
    kind = resource_type.rsplit(":", 1)[-1].lower()
    return resource_type.startswith("gcp:") and kind.endswith(("iammember", "iambinding", "iampolicy"))


# Cloud Monitoring and billing (the ServiceMonitoring component).
MONITORING_SERVICE = "gcp:monitoring/genericService:GenericService"
SLO = "gcp:monitoring/slo:Slo"
ALERT_POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"
NOTIFICATION_CHANNEL = "gcp:monitoring/notificationChannel:NotificationChannel"
BUDGET = "gcp:billing/budget:Budget"
BUDGET_API = "billingbudgets.googleapis.com"
