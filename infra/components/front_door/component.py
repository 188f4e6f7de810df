"""The global front door: a serverless NEG per region behind one backend service (Cloud Armor,
outlier detection, request logs, optional IAP), the URL map, an HTTPS proxy with a managed
certificate on a global address, and port 80 redirected to HTTPS. With a gated rollout, the URL
map also routes the gate's paths to each region's candidate and serving revision."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from infra.components import child_options, type_token
from infra.components.cloud_run import INVOKER_ROLE
from infra.components.front_door import rules
from infra.components.front_door.rules import compute_name
from infra.load_balancing import GATE_TARGETS, HTTP_PORT, HTTPS_PORT, SCHEME
from service import routes

compute = gcp.compute


@dataclass(frozen=True)
class RegionBackend:
    region: str
    service: pulumi.Input[str]  # the Cloud Run service's name in that region


@dataclass(frozen=True)
class GlobalFrontDoorArgs:
    project: pulumi.Input[str]
    prefix: str  # GCP names start with it (the service name)
    backends: Sequence[RegionBackend]
    domain: str
    rate_limit_per_minute: int  # per client IP; 0: no throttle rule
    iap: bool = False
    iap_members: Sequence[str] = ()  # who IAP admits (roles/iap.httpsResourceAccessor)
    labels: dict[str, str] = field(default_factory=dict)
    log_sample_rate: float = 1.0  # share of requests the load balancer logs
    # A gated rollout: route the gate's paths (infra.load_balancing.GATE_PATH_PREFIX) to each
    # region's candidate and serving revision, the only way to them once run.app URLs are off.
    gate_routes: bool = False


def iap_service_agent(project_number: str) -> str:
    """IAP calls the services as this identity (iap/docs/enabling-cloud-run)."""
    return f"serviceAccount:service-{project_number}@gcp-sa-iap.iam.gserviceaccount.com"


class GlobalFrontDoor(pulumi.ComponentResource):
    url: pulumi.Output[str]
    ip_address: pulumi.Output[str]
    backend_service: pulumi.Output[str]  # the backend service's name (its metrics' label)
    security_policy: pulumi.Output[str]

    def __init__(self, name: str, args: GlobalFrontDoorArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(type_token("GlobalFrontDoor"), name, None, opts)
        child = child_options(self, opts)
        prefix = args.prefix

        def neg(
            role: str, backend: RegionBackend, tag: str | None = None
        ) -> compute.RegionNetworkEndpointGroup:
            return compute.RegionNetworkEndpointGroup(
                f"{name}-{role}-{backend.region}",
                name=compute_name(prefix, f"{role}-{backend.region}"),
                project=args.project,
                region=backend.region,
                network_endpoint_type="SERVERLESS",
                cloud_run=compute.RegionNetworkEndpointGroupCloudRunArgs(service=backend.service, tag=tag),
                opts=child,
            )

        armor = compute.SecurityPolicy(
            f"{name}-armor",
            name=compute_name(prefix, "armor"),
            project=args.project,
            type="CLOUD_ARMOR",
            description="Per-client rate limit in front of the model service (managed by Pulumi)",
            rules=rules.security_rules(args.rate_limit_per_minute),
            opts=child,
        )

        def backend_service(role: str, gcp_name: str, negs: Sequence[compute.RegionNetworkEndpointGroup]):
            """Every backend service alike: behind the same Cloud Armor policy (and IAP), logged."""
            return compute.BackendService(
                f"{name}-{role}",
                name=gcp_name,
                project=args.project,
                load_balancing_scheme=SCHEME,
                backends=[compute.BackendServiceBackendArgs(group=n.id) for n in negs],
                security_policy=armor.self_link,
                outlier_detection=rules.outlier_detection(),
                log_config=compute.BackendServiceLogConfigArgs(enable=True, sample_rate=args.log_sample_rate),
                iap=compute.BackendServiceIapArgs(enabled=True) if args.iap else None,
                opts=child,
            )

        users = backend_service(
            "backend", rules.backend_name(prefix), [neg("neg", backend) for backend in args.backends]
        )
        gates = {
            rules.gate_path(target, backend.region): backend_service(
                f"{target}-{backend.region}",
                compute_name(prefix, f"{target}-{backend.region}"),
                [neg(f"neg-{target}", backend, rules.gate_tag(target))],
            )
            for backend in (args.backends if args.gate_routes else ())
            for target in GATE_TARGETS
        }
        url_map = compute.URLMap(
            f"{name}-urlmap",
            name=rules.url_map_name(prefix),
            project=args.project,
            default_service=users.id,
            **self._gate_routing(args.domain, users, gates),
            opts=child,
        )
        certificate = compute.ManagedSslCertificate(
            f"{name}-cert",
            name=compute_name(prefix, rules.certificate_suffix(args.domain)),
            project=args.project,
            managed=compute.ManagedSslCertificateManagedArgs(domains=[args.domain]),
            opts=child,
        )
        https_proxy = compute.TargetHttpsProxy(
            f"{name}-https-proxy",
            name=compute_name(prefix, "https-proxy"),
            project=args.project,
            url_map=url_map.id,
            ssl_certificates=[certificate.id],
            opts=child,
        )
        address = compute.GlobalAddress(
            f"{name}-ip",
            name=compute_name(prefix, "ip"),
            project=args.project,
            labels=args.labels,
            opts=child,
        )

        def forwarding_rule(role: str, proxy: pulumi.Resource, port: str) -> None:
            """One address, two ports: 443 to the HTTPS proxy, 80 to the redirect."""
            compute.GlobalForwardingRule(
                f"{name}-{role}",
                name=compute_name(prefix, role),
                project=args.project,
                target=proxy.id,
                ip_address=address.address,
                ip_protocol="TCP",
                port_range=port,
                load_balancing_scheme=SCHEME,
                labels=args.labels,
                opts=child,
            )

        forwarding_rule("https", https_proxy, HTTPS_PORT)
        # Port 80 answers every request with a redirect to HTTPS, on the same address.
        redirect = compute.URLMap(
            f"{name}-redirect",
            name=compute_name(prefix, "redirect"),
            project=args.project,
            default_url_redirect=compute.URLMapDefaultUrlRedirectArgs(
                https_redirect=True,
                strip_query=False,
                redirect_response_code="MOVED_PERMANENTLY_DEFAULT",
            ),
            opts=child,
        )
        http_proxy = compute.TargetHttpProxy(
            f"{name}-http-proxy",
            name=compute_name(prefix, "http-proxy"),
            project=args.project,
            url_map=redirect.id,
            opts=child,
        )
        forwarding_rule("http", http_proxy, HTTP_PORT)
        if args.iap:
            self._grant_iap(name, args, {"": users, **gates}, child)
        self.url = pulumi.Output.from_input(f"https://{args.domain}")
        self.ip_address = address.address
        self.backend_service = users.name
        self.security_policy = armor.name
        self.register_outputs(
            {
                "url": self.url,
                "ip_address": self.ip_address,
                "backend_service": self.backend_service,
                "security_policy": self.security_policy,
            }
        )

    @staticmethod
    def _gate_routing(
        domain: str, users: compute.BackendService, gates: Mapping[str, compute.BackendService]
    ) -> dict[str, object]:
        """The URL map's inputs beyond its default service: none without gate routes, so a front
        door without a gated rollout declares what it did before."""
        if not gates:
            return {}
        routed = [(path, service.id) for path, service in gates.items()]
        return {
            "host_rules": [compute.URLMapHostRuleArgs(hosts=["*"], path_matcher="gate")],
            "path_matchers": [
                compute.URLMapPathMatcherArgs(
                    name="gate", default_service=users.id, route_rules=rules.gate_route_rules(routed)
                )
            ],
            "tests": rules.url_map_tests(domain, routes.READY, users.id, routed),
        }

    @staticmethod
    def _grant_iap(
        name: str,
        args: GlobalFrontDoorArgs,
        backend_services: Mapping[str, compute.BackendService],
        child: pulumi.ResourceOptions,
    ) -> None:
        """The members IAP admits on every backend service (by gate path; "" for the users' one,
        whose grants keep the logical names they had before the gate's), and IAP's own identity
        as the services' only invoker."""
        for member in args.iap_members:
            for path, backend_service in backend_services.items():
                suffix = f"-{path.strip('/').replace('/', '-')}" if path else ""
                gcp.iap.WebBackendServiceIamMember(
                    f"{name}-iap-{rules.member_slug(member)}{suffix}",
                    project=args.project,
                    web_backend_service=backend_service.name,
                    role=rules.IAP_ACCESSOR_ROLE,
                    member=member,
                    opts=child,
                )
        number = gcp.organizations.get_project_output(project_id=args.project).number
        agent = number.apply(iap_service_agent)
        for backend in args.backends:
            gcp.cloudrunv2.ServiceIamMember(
                f"{name}-iap-invoker-{backend.region}",
                project=args.project,
                location=backend.region,
                name=backend.service,
                role=INVOKER_ROLE,
                member=agent,
                opts=child,
            )
