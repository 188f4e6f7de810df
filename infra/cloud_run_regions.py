"""Declares the Cloud Run path from the plan: a service per region and, when the stack asks for
it, the global front door before them. Composition only (no settings logic), kept out of
`__main__.py` so that stays a page."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from infra import plan, plan_regions
from infra.components.cloud_run import CloudRunModelService
from infra.components.front_door import GlobalFrontDoor
from infra.components.front_door.rules import gate_url
from infra.load_balancing import GATE_CANDIDATE, GATE_SERVING
from infra.rollout import keys
from infra.settings import Settings
from infra.spec import ModelServiceSpec


@dataclass(frozen=True)
class CloudRunRegions:
    services: dict[str, CloudRunModelService]  # by region, in the order of `regions`
    first: CloudRunModelService  # the first region's: a gated rollout's candidate goes there first
    url: pulumi.Output[str]  # the front door's, else the first region's
    front_door: GlobalFrontDoor | None
    gate_domain: str = ""  # the front door's domain where the gate reaches the revisions through it

    def candidate_urls(self) -> dict[str, pulumi.Output[str]]:
        """Where the gate reaches the candidate in each region ("" outside the candidate phase):
        its tag URL, or behind the front door the gate's path there (run.app URLs are off)."""
        if not self.gate_domain:
            return {region: service.candidate_url for region, service in self.services.items()}
        return {
            region: service.candidate_revision.apply(
                lambda candidate, region=region: (
                    gate_url(self.gate_domain, GATE_CANDIDATE, region) if candidate else ""
                )
            )
            for region, service in self.services.items()
        }

    def serving_urls(self) -> dict[str, pulumi.Input[str]]:
        """What the gate compares the candidate with in each region: that region's serving revision."""
        if not self.gate_domain:
            return {region: service.url for region, service in self.services.items()}
        return {region: gate_url(self.gate_domain, GATE_SERVING, region) for region in self.services}

    @property
    def candidate_url(self) -> pulumi.Output[str]:
        return next(iter(self.candidate_urls().values()))

    def outputs(self) -> dict[str, object]:
        """Stack outputs beyond a single region's (none for a single region without a front door):
        the front door's address for the DNS record, and each region's own URL."""
        found: dict[str, object] = {}
        if self.front_door:
            found["frontDoorIp"] = self.front_door.ip_address
        if len(self.services) > 1 or self.front_door:
            found["regionUrls"] = {region: service.url for region, service in self.services.items()}
        if len(self.services) > 1:  # the rollout gates the candidate in each region (infra/rollout)
            found[keys.CANDIDATE_URLS] = self.candidate_urls()
            found[keys.SERVING_URLS] = self.serving_urls()
        return found


def declare_cloud_run(
    settings: Settings,
    spec: ModelServiceSpec,
    service_account: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> CloudRunRegions:
    services = {
        region: CloudRunModelService(
            plan_regions.cloud_run_name(settings, region),
            plan.cloud_run_args(settings, spec, service_account, region),
            opts=opts,
        )
        for region in settings.regions
    }
    first = services[settings.regions[0]]
    if not settings.front_door.enabled:
        return CloudRunRegions(services, first, first.url, None)
    names = {region: service.service_name for region, service in services.items()}
    args = plan_regions.front_door_args(settings, names)
    front_door = GlobalFrontDoor(f"{settings.service.name}-front-door", args, opts=opts)
    return CloudRunRegions(
        services, first, front_door.url, front_door, args.domain if args.gate_routes else ""
    )
