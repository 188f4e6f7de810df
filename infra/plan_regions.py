"""Settings → the args of several regions and of the front door (docs/multi-region.md); part of
the plan (infra/plan.py re-exports these)."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi

from infra.components.front_door import GlobalFrontDoorArgs, RegionBackend
from infra.components.front_door.rules import backend_name, url_map_name
from infra.settings import Settings
from infra.settings.front_door import FRONT_DOOR_INGRESS

__all__ = ["FRONT_DOOR_INGRESS"]  # plan.py maps `ingress` with it

FRONT_DOOR_APIS = ["compute.googleapis.com"]
IAP_API = "iap.googleapis.com"


def front_door_apis(settings: Settings) -> list[str]:
    front_door = settings.front_door
    if not front_door.enabled or settings.platform != "cloudrun":
        return []
    return FRONT_DOOR_APIS + ([IAP_API] if front_door.iap else [])


def cloud_run_name(settings: Settings, region: str) -> str:
    """The logical name of the service in `region`: gcp:region's keeps the service name, so a
    single-region stack that lists more regions later replaces nothing; the others add theirs."""
    name = settings.service.name
    return name if region == settings.region else f"{name}-{region}"


def front_door_args(settings: Settings, services: Mapping[str, pulumi.Input[str]]) -> GlobalFrontDoorArgs:
    """`services`: each region's Cloud Run service name, in the order of `regions`."""
    front_door = settings.front_door
    return GlobalFrontDoorArgs(
        project=settings.project,
        prefix=settings.service.name,
        backends=[RegionBackend(region=region, service=service) for region, service in services.items()],
        domain=front_door.domain,
        rate_limit_per_minute=front_door.rate_limit_per_minute,
        iap=front_door.iap,
        iap_members=settings.access.invokers if front_door.iap else (),
        labels=settings.labels,
        gate_routes=settings.rollout.mode == "gated",
    )


def front_door_monitoring(settings: Settings) -> dict[str, object]:
    """ServiceMonitoringArgs for several regions: SLOs per region, and with the front door its
    uptime check on the domain and the load balancer's alerts."""
    front_door = settings.front_door.enabled and settings.platform == "cloudrun"
    return {
        "regions": settings.regions if settings.platform == "cloudrun" else (),
        "front_door_host": settings.front_door.domain if front_door else "",
        "front_door_url_map": url_map_name(settings.service.name) if front_door else "",
        "front_door_backend": backend_name(settings.service.name) if front_door else "",
    }
