"""The GKE cluster of `platform: knative`: hardening asserted field by field, pools, identity, provider."""

from __future__ import annotations

import json

import pytest
from infra_helpers import declare, make_settings, rendered

from infra.components.gke import NODE_ROLES, GkeCluster, kubeconfig
from infra.offline import render as rendering
from infra.plan import cluster_args
from infra.settings import SettingsError

CLUSTER = "gcp:container/cluster:Cluster"
NODE_POOL = "gcp:container/nodePool:NodePool"


def one(resources: list[dict], resource_type: str) -> dict:
    [resource] = [r for r in resources if r["type"] == resource_type]
    return resource


@pytest.fixture(scope="module")
def gke() -> rendering.Rendering:
    return rendered("gke")


@pytest.fixture(scope="module")
def gke_gpu() -> rendering.Rendering:
    return rendered(
        "gke",
        {
            "gpu": "nvidia-l4",
            "runtime": "torch",
            "cpu": "4",
            "memory": "16Gi",
            "gkeGpuMaxNodes": "2",
            "gkeMasterAuthorizedNetworks": '["203.0.113.7/32"]',
        },
    )


@pytest.mark.slow
def test_cluster_is_hardened_field_by_field(gke):
    cluster = one(gke.resources, CLUSTER)["inputs"]
    assert cluster["name"] == "qa-gke-cluster"
    assert cluster["location"] == "us-central1-a"  # Pulumi.gke.yaml: zonal
    # Its node pools are managed separately; the default pool goes once the cluster exists.
    assert cluster["removeDefaultNodePool"] is True and cluster["initialNodeCount"] == 1
    assert cluster["releaseChannel"] == {"channel": "REGULAR"}
    assert cluster["workloadIdentityConfig"] == {"workloadPool": "example-project.svc.id.goog"}
    assert cluster["datapathProvider"] == "ADVANCED_DATAPATH"  # Dataplane V2: NetworkPolicy enforced
    assert cluster["addonsConfig"]["networkPolicyConfig"] == {"disabled": True}  # not with Dataplane V2
    assert cluster["enableShieldedNodes"] is True
    assert cluster["enableLegacyAbac"] is False
    assert cluster["masterAuth"] == {"clientCertificateConfig": {"issueClientCertificate": False}}
    assert cluster["rbacBindingConfig"] == {
        "enableInsecureBindingSystemAuthenticated": False,
        "enableInsecureBindingSystemUnauthenticated": False,
    }
    assert cluster["anonymousAuthenticationConfig"] == {"mode": "LIMITED"}
    assert cluster["serviceExternalIpsConfig"] == {"enabled": False}
    assert cluster["privateClusterConfig"] == {"enablePrivateNodes": True, "enablePrivateEndpoint": False}
    assert cluster["networkingMode"] == "VPC_NATIVE"
    assert cluster["ipAllocationPolicy"] == {
        "clusterSecondaryRangeName": "pods",
        "servicesSecondaryRangeName": "services",
    }
    assert cluster["enableIntranodeVisibility"] is True
    assert cluster["loggingConfig"] == {"enableComponents": ["SYSTEM_COMPONENTS", "WORKLOADS"]}
    assert cluster["monitoringConfig"]["enableComponents"] == ["SYSTEM_COMPONENTS"]
    assert cluster["monitoringConfig"]["managedPrometheus"] == {"enabled": True}
    assert cluster["deletionProtection"] is False  # gke stack: destroyable, like dev
    assert cluster["resourceLabels"] == {"app": "qa-gke", "stack": "gke", "managed-by": "pulumi"}
    assert "masterAuthorizedNetworksConfig" not in cluster  # none listed in the stack
    network = one(gke.resources, "gcp:compute/network:Network")["inputs"]
    assert cluster["network"].endswith(f"/networks/{network['name']}")
    assert network["autoCreateSubnetworks"] is False


@pytest.mark.slow
def test_every_node_config_is_hardened_and_runs_as_the_node_account(gke, gke_gpu):
    [account] = [r for r in gke.resources if r["name"] == "gke-node-account"]
    email = f"{account['inputs']['accountId']}@example-project.iam.gserviceaccount.com"
    configs = [one(gke.resources, CLUSTER)["inputs"]["nodeConfig"]]  # the short-lived default pool
    configs += [r["inputs"]["nodeConfig"] for r in gke_gpu.resources if r["type"] == NODE_POOL]
    assert len(configs) == 3
    for config in configs:
        assert config["imageType"] == "COS_CONTAINERD"
        assert config["shieldedInstanceConfig"] == {
            "enableSecureBoot": True,
            "enableIntegrityMonitoring": True,
        }
        assert config["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
        assert config["metadata"] == {"disable-legacy-endpoints": "true"}
        assert config["serviceAccount"] == email
        assert not config["serviceAccount"].endswith("-compute@developer.gserviceaccount.com")
        assert config["oauthScopes"] == ["https://www.googleapis.com/auth/cloud-platform"]


@pytest.mark.slow
def test_node_pool_autoscales_within_bounds_and_repairs_itself(gke):
    [pool] = [r for r in gke.resources if r["type"] == NODE_POOL]
    inputs = pool["inputs"]
    assert pool["name"] == "gke-nodes" and inputs["cluster"] == "qa-gke-cluster"
    assert inputs["autoscaling"] == {
        "totalMinNodeCount": 1,
        "totalMaxNodeCount": 3,
        "locationPolicy": "BALANCED",
    }
    assert inputs["management"] == {"autoRepair": True, "autoUpgrade": True}
    assert inputs["upgradeSettings"] == {"maxSurge": 1, "maxUnavailable": 0}
    assert inputs["nodeConfig"]["machineType"] == "e2-standard-4"
    assert "guestAccelerators" not in inputs["nodeConfig"]


@pytest.mark.slow
def test_gpu_pool_scales_from_zero_with_l4s_behind_a_taint(gke_gpu):
    pool = next(r for r in gke_gpu.resources if r["name"] == "gke-gpu-nodes")["inputs"]
    assert pool["initialNodeCount"] == 0
    assert pool["autoscaling"] == {"totalMinNodeCount": 0, "totalMaxNodeCount": 2, "locationPolicy": "ANY"}
    assert pool["management"] == {"autoRepair": True, "autoUpgrade": True}
    config = pool["nodeConfig"]
    assert config["machineType"] == "g2-standard-8"
    assert config["guestAccelerators"] == [
        {"type": "nvidia-l4", "count": 1, "gpuDriverInstallationConfig": {"gpuDriverVersion": "LATEST"}}
    ]
    assert config["taints"] == [{"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}]


@pytest.mark.slow
def test_a_gpu_pool_attaches_every_gpu_its_machine_type_has_and_the_check_counts_them():
    # g2-standard-24 carries two L4s: two pods per node, so maxInstances 4 fits 2 nodes.
    overrides = {
        "gpu": "nvidia-l4",
        "runtime": "torch",
        "cpu": "4",
        "memory": "16Gi",
        "gkeGpuMachineType": "g2-standard-24",
        "gkeGpuMaxNodes": "2",
    }
    pool = next(
        r
        for r in rendered("gke", {**overrides, "maxInstances": "4"}).resources
        if r["name"] == "gke-gpu-nodes"
    )
    [accelerator] = pool["inputs"]["nodeConfig"]["guestAccelerators"]
    assert (accelerator["type"], accelerator["count"]) == ("nvidia-l4", 2)
    with pytest.raises(
        SettingsError, match=r"maxInstances: 5 is not valid — at most 4 on knative: 2 pod\(s\) per"
    ):
        make_settings(platform="knative", **{**overrides, "maxInstances": "5"})


@pytest.mark.slow
def test_master_authorized_networks_when_listed(gke_gpu):
    cluster = one(gke_gpu.resources, CLUSTER)["inputs"]
    assert cluster["masterAuthorizedNetworksConfig"] == {
        "cidrBlocks": [{"cidrBlock": "203.0.113.7/32", "displayName": "authorized-0"}],
        "gcpPublicCidrsAccessEnabled": False,
    }


@pytest.mark.slow
def test_node_account_has_only_logging_monitoring_and_image_read(gke):
    grants = [r for r in gke.resources if r["type"] == "gcp:projects/iAMMember:IAMMember"]
    assert (
        sorted(g["inputs"]["role"] for g in grants)
        == sorted(NODE_ROLES)
        == sorted(
            [
                "roles/logging.logWriter",
                "roles/monitoring.metricWriter",
                "roles/monitoring.viewer",
                "roles/stackdriver.resourceMetadata.writer",
                "roles/artifactregistry.reader",
            ]
        )
    )
    assert {g["inputs"]["member"] for g in grants} == {
        "serviceAccount:qa-gke-cluster-nodes@example-project.iam.gserviceaccount.com"
    }
    [pool] = [r for r in gke.resources if r["type"] == NODE_POOL]
    assert {g["name"] for g in grants} <= set(pool["dependsOn"])  # nodes boot with their roles


@pytest.mark.slow
def test_private_nodes_get_cloud_nat_in_their_own_vpc(gke):
    subnet = one(gke.resources, "gcp:compute/subnetwork:Subnetwork")["inputs"]
    assert subnet["privateIpGoogleAccess"] is True
    assert subnet["logConfig"]["metadata"] == "INCLUDE_ALL_METADATA"
    assert [r["rangeName"] for r in subnet["secondaryIpRanges"]] == ["pods", "services"]
    nat = one(gke.resources, "gcp:compute/routerNat:RouterNat")["inputs"]
    assert nat["subnetworks"][0]["name"].endswith(f"/subnetworks/{subnet['name']}")
    assert nat["logConfig"] == {"enable": True, "filter": "ERRORS_ONLY"}


@pytest.mark.slow  # declares a whole cluster
def test_public_nodes_need_no_nat():
    declared = declare(
        lambda: GkeCluster(
            "gke",
            cluster_args(
                make_settings(platform="knative", gkePrivateNodes="false", gkeLocation="europe-west1-b")
            ),
        )
    )
    assert not declared.of_type("gcp:compute/routerNat:RouterNat")
    assert not declared.of_type("gcp:compute/router:Router")
    cluster = declared["gke-cluster"].inputs
    assert cluster["privateClusterConfig"]["enablePrivateNodes"] is False
    assert cluster["location"] == "europe-west1-b"
    assert {r.parent for r in declared.registrations if r.name != "gke"} == {"gke"}


@pytest.mark.slow  # declares a whole cluster
def test_regional_cluster_and_deletion_protection_follow_the_stack():
    declared = declare(lambda: GkeCluster("gke", cluster_args(make_settings(platform="knative"))))
    cluster = declared["gke-cluster"].inputs
    assert cluster["location"] == "europe-west1"  # empty gkeLocation: regional
    assert cluster["deletionProtection"] is True  # the default, as on Cloud Run
    assert not declared.of_type(NODE_POOL)[0].inputs["nodeConfig"].get("guestAccelerators")
    assert len(declared.of_type(NODE_POOL)) == 1  # no GPU pool unless gpu is set


@pytest.mark.slow
def test_kubernetes_provider_authenticates_with_the_gke_auth_plugin(gke):
    provider = one(gke.resources, "pulumi:providers:kubernetes")
    assert provider["inputs"]["enableServerSideApply"] == "true"
    config = json.loads(provider["inputs"]["kubeconfig"])
    [user] = config["users"]
    assert user["user"]["exec"]["command"] == "gke-gcloud-auth-plugin"
    assert "token" not in json.dumps(config)  # nothing secret in state
    [cluster] = config["clusters"]
    assert cluster["cluster"]["server"].startswith("https://")
    assert cluster["cluster"]["certificate-authority-data"]
    assert {"gke-cluster", "gke-nodes"} <= set(provider["dependsOn"])


@pytest.mark.slow
def test_every_kubernetes_resource_names_the_cluster_provider(gke):
    kube = [r for r in gke.resources if r["type"].startswith("kubernetes:")]
    assert len(kube) >= 10
    assert {r["provider"] for r in kube} == {"gke-kubernetes"}


def test_kubeconfig_is_deterministic():
    first = kubeconfig("c", "1.2.3.4", "Q0E=")
    assert first == kubeconfig("c", "1.2.3.4", "Q0E=")
    assert json.loads(first)["current-context"] == "c"
