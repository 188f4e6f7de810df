"""Declares the Cloud Run path from the plan: a service per region and, when the stack asks for
it, the global front door before them. Composition only (no settings logic), kept out of
`__main__.py` so that stays a page."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from infra import plan, plan_regions
from infra.components.cloud_run import CloudRunModelService
from infra.components.front_door import GlobalFrontDoor
from infra.rollout import keys
from infra.settings import Settings
from infra.spec import ModelServiceSpec


@dataclass(frozen=True)
class CloudRunRegions:
    services: dict[str, CloudRunModelService]  # by region, in the order of `regions`
    first: CloudRunModelService  # the first region's: a gated rollout's candidate goes there first
    url: pulumi.Output[str]  # the front door's, else the first region's
    front_door: GlobalFrontDoor | None

    def outputs(self) -> dict[str, object]:
        """Stack outputs beyond a single region's (none for a single region without a front door):
        the front door's address for the DNS record, and each region's own URL."""
        found: dict[str, object] = {}
        if self.front_door:
            found["frontDoorIp"] = self.front_door.ip_address
        if len(self.services) > 1 or self.front_door:
            found["regionUrls"] = {region: service.url for region, service in self.services.items()}
        if len(self.services) > 1:  # the rollout gates the candidate in each region (infra/rollout)
            found[keys.CANDIDATE_URLS] = {r: service.candidate_url for r, service in self.services.items()}
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
    front_door = None
    if settings.front_door.enabled:
        names = {region: service.service_name for region, service in services.items()}
        front_door = GlobalFrontDoor(
            f"{settings.service.name}-front-door", plan_regions.front_door_args(settings, names), opts=opts
        )
    return CloudRunRegions(services, first, front_door.url if front_door else first.url, front_door)
