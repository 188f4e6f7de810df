"""Several regions and the global front door (docs/multi-region.md): `regions`, `loadBalancer`,
`domain`, `rateLimitPerMinute`, `iap`. Each mistake is one line naming the key."""

from __future__ import annotations

import json

from infra import limits, load_balancing, regions
from infra.settings import parse
from infra.settings.parse import RawConfig
from infra.settings.schema import AccessSettings, FrontDoorSettings, ServiceSettings

# The one ingress that lets a global external Application Load Balancer in and nothing else.
FRONT_DOOR_INGRESS = "internal-and-cloud-load-balancing"
# What each platform can put behind the front door: only Cloud Run has serverless NEGs.
FRONT_DOOR_PLATFORMS = ("cloudrun",)


def stack_regions(r: RawConfig, region: str, platform: str, service: ServiceSettings) -> tuple[str, ...]:
    """The regions the service runs in: the `regions` list, or gcp:region alone when it is empty.
    Each is a Cloud Run region (with the stack's GPU, if any) and listed once."""
    listed = r.strings("regions")
    if not listed:
        return (region,) if region else ()
    if platform not in FRONT_DOOR_PLATFORMS and listed != (region,):
        r.fail(
            "regions",
            list(listed),
            f'[] or ["{region}"] on {platform}: one cluster serves one region (several regions are '
            "for Cloud Run)",
        )
        return (region,)
    seen: set[str] = set()
    for name in listed:
        if problem := regions.check_region(name):
            r.fail("regions", name, problem)
        elif name in seen:
            r.fail("regions", name, "listed once (each region gets one service)")
        elif service.gpu in limits.GPU_TYPES and (problem := regions.check_gpu_region(service.gpu, name)):
            r.fail("regions", name, problem.replace("set gcp:region to", "list only"))
        seen.add(name)
    return listed


def front_door_settings(r: RawConfig, platform: str, access: AccessSettings) -> FrontDoorSettings:
    front_door = FrontDoorSettings(
        enabled=r.flag("loadBalancer"),
        domain=r.text("domain").strip().lower(),
        rate_limit_per_minute=r.integer(
            "rateLimitPerMinute",
            0,
            load_balancing.RATE_LIMIT_COUNT_MAX,
            " (requests per client IP a minute; 0 for no limit)",
        ),
        iap=r.flag("iap"),
    )
    if not front_door.enabled:
        for key, value in (("domain", front_door.domain), ("iap", front_door.iap)):
            if value:
                r.fail(
                    key, value, f"{_empty(value)} without `loadBalancer: true` (it configures the front door)"
                )
        return front_door
    if platform not in FRONT_DOOR_PLATFORMS:
        r.fail(
            "loadBalancer",
            True,
            f"false on {platform}: the front door routes to Cloud Run services through serverless NEGs "
            f"(the {platform} stack has its own ingress load balancer)",
        )
    if not front_door.domain:
        r.fail("domain", "", "the host the front door's managed certificate is for, e.g. qa.example.com")
    elif not parse.DOMAIN.match(front_door.domain):
        r.fail("domain", front_door.domain, "a DNS name you own, e.g. qa.example.com")
    if access.ingress not in ("all", FRONT_DOOR_INGRESS):
        r.fail(
            "ingress",
            access.ingress,
            f"all or {FRONT_DOOR_INGRESS} with loadBalancer (the front door sets {FRONT_DOOR_INGRESS})",
        )
    if front_door.iap and access.public:
        r.fail("iap", True, "false with `public: true` (IAP lets in only the listed invokers)")
    elif not front_door.iap and not access.public:
        r.fail(
            "loadBalancer",
            True,
            "false for a private service unless `iap: true` (the front door passes no identity Cloud Run "
            "could check; IAP admits the listed invokers) or `public: true`",
        )
    elif front_door.iap and not access.invokers:
        r.fail("invokers", [], 'the members IAP admits with `iap: true`, e.g. ["group:team@example.com"]')
    return front_door


def _empty(value: object) -> str:
    return "false" if isinstance(value, bool) else json.dumps("")
