"""Passing and failing fixtures for the Cloud Run rules (expected names listed exactly)."""

from __future__ import annotations

import json

from policy_helpers import (
    CLOUD_RUN,
    CLOUD_RUN_IAM_BINDING,
    CLOUD_RUN_IAM_MEMBER,
    CLOUD_RUN_IAM_POLICY,
    DELETE,
    PRIVATE_SERVICE,
    SERVICE,
    case,
    res,
)

C0 = "template.containers.0"


def svc(name: str, changes: dict | None = None, base: dict = SERVICE, parent: str | None = None):
    return res(CLOUD_RUN, name, base, changes, parent)


SIDECAR = {"name": "proxy", "image": SERVICE["template"]["containers"][0]["image"]}

CASES = [
    case(
        "cloudrun-dedicated-service-account",
        [
            svc("dedicated"),
            svc(
                "compute-default",
                {"template.serviceAccount": "123456789012-compute@developer.gserviceaccount.com"},
            ),
            svc(
                "appspot-default", {"template.serviceAccount": "example-project@appspot.gserviceaccount.com"}
            ),
            svc("unset", {"template.serviceAccount": DELETE}),
            svc("empty", {"template.serviceAccount": ""}),
        ],
        passing={"dedicated"},
        failing={"compute-default", "appspot-default", "unset", "empty"},
    ),
    case(
        "cloudrun-image-from-artifact-registry",
        [
            svc("regional-ar"),
            svc("multiregion-ar", {f"{C0}.image": "europe-docker.pkg.dev/p/r/qa@sha256:" + "0" * 64}),
            svc("gcr", {f"{C0}.image": "gcr.io/p/qa@sha256:" + "0" * 64}),
            svc("docker-hub", {f"{C0}.image": "docker.io/library/python@sha256:" + "0" * 64}),
            svc("sidecar-from-hub", {"template.containers.1": {**SIDECAR, "image": "nginx:1.27"}}),
        ],
        passing={"regional-ar", "multiregion-ar"},
        failing={"gcr", "docker-hub", "sidecar-from-hub"},
    ),
    case(
        "cloudrun-image-by-digest",
        [
            svc("digest"),
            svc("sidecar-digest", {"template.containers.1": SIDECAR}),
            svc("tag", {f"{C0}.image": "us-central1-docker.pkg.dev/p/r/qa:8fd155c846a7219e"}),
            svc("latest", {f"{C0}.image": "us-central1-docker.pkg.dev/p/r/qa"}),
            svc("short-digest", {f"{C0}.image": "us-central1-docker.pkg.dev/p/r/qa@sha256:abc"}),
        ],
        passing={"digest", "sidecar-digest"},
        failing={"tag", "latest", "short-digest"},
    ),
    case(
        "cloudrun-resource-limits",
        [
            svc("limits"),
            svc("no-resources", {f"{C0}.resources": DELETE}),
            svc("no-memory", {f"{C0}.resources.limits.memory": DELETE}),
            svc("empty-cpu", {f"{C0}.resources.limits.cpu": ""}),
        ],
        passing={"limits"},
        failing={"no-resources", "no-memory", "empty-cpu"},
    ),
    case(
        "cloudrun-cpu-idle-explicit",
        [
            svc("request-billing"),
            svc("instance-billing", {f"{C0}.resources.cpuIdle": False}),
            svc("no-resources-at-all", {f"{C0}.resources": DELETE}),
            svc("implicit", {f"{C0}.resources.cpuIdle": DELETE}),
        ],
        passing={"request-billing", "instance-billing", "no-resources-at-all"},
        failing={"implicit"},
    ),
    case(
        "cloudrun-concurrency-cpu-bound",
        [
            svc("one"),
            svc("four", {"template.maxInstanceRequestConcurrency": 4}),
            svc(
                "gpu-batches",
                {
                    "template.maxInstanceRequestConcurrency": 16,
                    "template.nodeSelector": {"accelerator": "nvidia-l4"},
                },
            ),
            svc("default-80", {"template.maxInstanceRequestConcurrency": DELETE}),
            svc("eighty", {"template.maxInstanceRequestConcurrency": 80}),
            svc("five-as-double", {"template.maxInstanceRequestConcurrency": 5.0}),
        ],
        passing={"one", "four", "gpu-batches"},
        failing={"default-80", "eighty", "five-as-double"},
    ),
    case(
        "cloudrun-max-instances",
        [
            svc("capped"),
            svc("no-scaling", {"template.scaling": DELETE}),
            svc("no-max", {"template.scaling.maxInstanceCount": DELETE}),
            svc("zero", {"template.scaling.maxInstanceCount": 0}),
        ],
        passing={"capped"},
        failing={"no-scaling", "no-max", "zero"},
    ),
    case(
        "cloudrun-request-timeout",
        [
            svc("sixty"),
            svc("at-bound", {"template.timeout": "300s"}),
            svc("fractional", {"template.timeout": "12.5s"}),
            svc("unset", {"template.timeout": DELETE}),
            svc("hour", {"template.timeout": "3600s"}),
            svc("not-a-duration", {"template.timeout": "5m"}),
        ],
        passing={"sixty", "at-bound", "fractional", "hour"},
        failing={"unset", "not-a-duration"},
    ),
    case(
        "cloudrun-request-timeout-inference",
        [
            svc("sixty"),
            svc("at-bound", {"template.timeout": "300s"}),
            svc("unset", {"template.timeout": DELETE}),  # the mandatory rule's business
            svc("hour", {"template.timeout": "3600s"}),
            svc("just-over", {"template.timeout": "300.5s"}),
        ],
        passing={"sixty", "at-bound", "unset"},
        failing={"hour", "just-over"},
    ),
    case(
        "cloudrun-startup-probe",
        [
            svc("http-probe"),
            svc("tcp-probe", {f"{C0}.startupProbe": {"tcpSocket": {"port": 8080}}}),
            svc("sidecar-without-probe", {"template.containers.1": SIDECAR}),
            svc("no-probe", {f"{C0}.startupProbe": DELETE}),
            svc("probe-without-check", {f"{C0}.startupProbe": {"periodSeconds": 5}}),
        ],
        passing={"http-probe", "tcp-probe", "sidecar-without-probe"},
        failing={"no-probe", "probe-without-check"},
    ),
    case(
        "cloudrun-startup-probe-budget",
        [
            svc("forty-seconds"),
            svc(
                "exactly-240",
                {f"{C0}.startupProbe.failureThreshold": 24, f"{C0}.startupProbe.periodSeconds": 10},
            ),
            svc("defaults", {f"{C0}.startupProbe": {"httpGet": {"path": "/ready"}}}),
            svc("no-probe", {f"{C0}.startupProbe": DELETE}),
            svc("too-long", {f"{C0}.startupProbe.failureThreshold": 241}),
            svc("delay-tips-it", {f"{C0}.startupProbe.initialDelaySeconds": 201}),
        ],
        passing={"forty-seconds", "exactly-240", "defaults", "no-probe"},
        failing={"too-long", "delay-tips-it"},
    ),
    case(
        "cloudrun-no-plaintext-secrets",
        [
            svc("plain-settings"),
            svc(
                "secret-manager",
                {
                    f"{C0}.envs.4": {
                        "name": "HF_TOKEN",
                        "valueSource": {"secretKeyRef": {"secret": "hf-token", "version": "latest"}},
                    }
                },
            ),
            svc("harmless-flag", {f"{C0}.envs.4": {"name": "USE_AUTH_TOKEN", "value": "false"}}),
            svc("hf-token-by-name", {f"{C0}.envs.4": {"name": "HF_TOKEN", "value": "my-token"}}),
            svc("pulumi-secret-as-plain", {f"{C0}.envs.4": {"name": "DB_PASSWORD", "value": "[secret]"}}),
            svc("api-key", {f"{C0}.envs.4": {"name": "OPENAI_API_KEY", "value": "abc123"}}),
            svc("token-by-value", {f"{C0}.envs.4": {"name": "EXTRA", "value": "hf_" + "a1B2" * 9}}),
            svc(
                "url-credentials", {f"{C0}.envs.4": {"name": "CACHE_URL", "value": "redis://u:pw@cache:6379"}}
            ),
        ],
        passing={"plain-settings", "secret-manager", "harmless-flag"},
        failing={
            "hf-token-by-name",
            "pulumi-secret-as-plain",
            "api-key",
            "token-by-value",
            "url-credentials",
        },
    ),
    case(
        "cloudrun-access-label",
        [
            svc("public"),
            svc("private", base=PRIVATE_SERVICE),
            svc("missing", {"labels.access": DELETE}),
            svc("no-labels", {"labels": DELETE}),
            svc("typo", {"labels.access": "pubic"}),
        ],
        passing={"public", "private"},
        failing={"missing", "no-labels", "typo"},
    ),
    case(
        "cloudrun-public-invoker-intended",
        [
            svc("pub", {"name": "pub"}, parent="pub-component"),
            svc("priv", {"name": "priv"}, base=PRIVATE_SERVICE, parent="priv-component"),
            svc("unlabelled", {"name": "unlabelled", "labels.access": DELETE}),
            res(
                CLOUD_RUN_IAM_MEMBER,
                "allusers-on-public",
                {"name": "pub", "location": "us-central1", "role": "roles/run.invoker", "member": "allUsers"},
            ),
            res(
                CLOUD_RUN_IAM_MEMBER,
                "user-on-private",
                {
                    "name": "priv",
                    "role": "roles/run.invoker",
                    "member": "serviceAccount:ci@example-project.iam.gserviceaccount.com",
                },
            ),
            res(
                CLOUD_RUN_IAM_MEMBER,
                "by-full-name",
                {
                    "name": "projects/example-project/locations/us-central1/services/pub",
                    "role": "roles/run.invoker",
                    "member": "allAuthenticatedUsers",
                },
            ),
            res(
                CLOUD_RUN_IAM_MEMBER,
                "allusers-on-private",
                {"name": "priv", "role": "roles/run.invoker", "member": "allUsers"},
            ),
            # Name not known yet (preview) but the parent component settles which service it is.
            res(
                CLOUD_RUN_IAM_MEMBER,
                "by-parent-on-private",
                {"role": "roles/run.invoker", "member": "allUsers"},
                parent="priv-component",
            ),
            res(
                CLOUD_RUN_IAM_BINDING,
                "binding-on-unlabelled",
                {
                    "name": "unlabelled",
                    "role": "roles/run.invoker",
                    "members": ["user:a@example.com", "allAuthenticatedUsers"],
                },
            ),
            res(
                "gcp:cloudrun/iamMember:IamMember",
                "v1-allusers-on-private",
                {"service": "priv", "role": "roles/run.invoker", "member": "allUsers"},
            ),
            res(
                CLOUD_RUN_IAM_MEMBER,
                "public-admin",
                {"name": "pub", "role": "roles/run.admin", "member": "allUsers"},
            ),
            res(
                CLOUD_RUN_IAM_MEMBER,
                "other-region",
                {
                    "name": "pub",
                    "location": "europe-west1",
                    "role": "roles/run.invoker",
                    "member": "allUsers",
                },
            ),
            res(
                CLOUD_RUN_IAM_MEMBER,
                "undeclared-service",
                {"name": "elsewhere", "role": "roles/run.invoker", "member": "allUsers"},
            ),
            res(
                CLOUD_RUN_IAM_POLICY,
                "policy-on-private",
                {
                    "name": "priv",
                    "policyData": json.dumps(
                        {"bindings": [{"role": "roles/run.invoker", "members": ["allUsers"]}]}
                    ),
                },
            ),
        ],
        passing={"allusers-on-public", "user-on-private", "by-full-name"},
        ignored={"pub", "priv", "unlabelled"},
        failing={
            "allusers-on-private",
            "v1-allusers-on-private",
            "by-parent-on-private",
            "binding-on-unlabelled",
            "public-admin",
            "other-region",
            "undeclared-service",
            "policy-on-private",
        },
    ),
    case(
        "cloudrun-invoker-iam-disabled",
        [
            svc("iam-enforced", base=PRIVATE_SERVICE),
            svc("bypass-on-public", {"invokerIamDisabled": True}),
            svc("unset", {"invokerIamDisabled": DELETE}, base=PRIVATE_SERVICE),
            svc("bypass-on-private", {"invokerIamDisabled": True}, base=PRIVATE_SERVICE),
            svc("bypass-unlabelled", {"invokerIamDisabled": True, "labels.access": DELETE}),
        ],
        passing={"iam-enforced", "bypass-on-public", "unset"},
        failing={"bypass-on-private", "bypass-unlabelled"},
    ),
    case(
        "cloudrun-private-ingress",
        [
            svc("private-internal", base=PRIVATE_SERVICE),
            svc(
                "private-behind-lb",
                {"ingress": "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"},
                base=PRIVATE_SERVICE,
            ),
            svc("public-open"),
            svc("private-open", {"ingress": "INGRESS_TRAFFIC_ALL"}, base=PRIVATE_SERVICE),
            svc("private-default-ingress", {"ingress": DELETE}, base=PRIVATE_SERVICE),
        ],
        passing={"private-internal", "private-behind-lb", "public-open"},
        failing={"private-open", "private-default-ingress"},
    ),
    case(
        "cloudrun-deletion-protection-prod",
        [
            svc("dev-unprotected"),
            svc("prod-protected", {"labels.stack": "prod", "deletionProtection": True}),
            svc("prod-default", {"labels.stack": "prod", "deletionProtection": DELETE}),
            svc("prod-unprotected", {"labels.stack": "prod"}),
            svc("production-eu-unprotected", {"labels.stack": "production-eu"}),
        ],
        passing={"dev-unprotected", "prod-protected", "prod-default"},
        failing={"prod-unprotected", "production-eu-unprotected"},
    ),
]
