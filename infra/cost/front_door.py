"""What several regions and the front door add to the month: the forwarding rules, the Cloud
Armor policy with its rules and requests, and the warm minimum instances of the regions beyond
`gcp:region` (whose own bill is the main estimate). Plain Python, like the rest of infra/cost.

Prices (USD list prices, transcribed on PRICES_AS_OF; check the pages before relying on them):
https://cloud.google.com/load-balancing/pricing (global forwarding rules, the first five) and
https://cloud.google.com/armor/pricing (Cloud Armor Standard, pay as you go).
Not included: the load balancer's data processing (per GiB in and out), egress, Cloud Armor
Enterprise, the traffic a failover moves between regions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infra.components.front_door.rules import security_rules
from infra.cost import prices as p
from infra.cost.model import LineItem
from infra.load_balancing import FRONT_DOOR_PORTS

LB_PRICES_URL = "https://cloud.google.com/load-balancing/pricing"
ARMOR_PRICES_URL = "https://cloud.google.com/armor/pricing"
PRICES_AS_OF = "2026-12-07"
FORWARDING_RULE_HOUR = 0.025  # each of a project's first five global forwarding rules
ARMOR_POLICY_MONTH = 5.0
ARMOR_RULE_MONTH = 1.0
ARMOR_PER_MILLION_REQUESTS = 0.75


@dataclass(frozen=True)
class FrontDoorCost:
    items: tuple[LineItem, ...]
    other_regions: tuple[str, ...]

    @property
    def total(self) -> float:
        return sum(item.cost for item in self.items)


def front_door_cost(settings: Any, rps: float) -> FrontDoorCost | None:
    """None for a single region without a front door (nothing to add)."""
    regions, front_door = tuple(settings.regions), settings.front_door
    others = tuple(r for r in regions if r != settings.region)
    if not others and not front_door.enabled:
        return None
    hours, seconds = p.HOURS_PER_MONTH, p.HOURS_PER_MONTH * 3600
    items: list[LineItem] = []
    if front_door.enabled:
        rules = len(security_rules(front_door.rate_limit_per_minute))
        items += [
            LineItem(
                "Global forwarding rules (443, 80)",
                len(FRONT_DOOR_PORTS) * hours,
                "rule-hour",
                FORWARDING_RULE_HOUR,
            ),
            LineItem("Cloud Armor policy", 1, "policy-month", ARMOR_POLICY_MONTH),
            LineItem("Cloud Armor rules", rules, "rule-month", ARMOR_RULE_MONTH),
            LineItem("Cloud Armor requests", rps * seconds, "request", ARMOR_PER_MILLION_REQUESTS / 1e6),
        ]
    service = settings.service
    warm = service.min_instances
    for region in others if warm else ():
        tier = p.prices_for(region)
        always = service.cpu_always_allocated
        cpu_price = tier.instance_cpu_vcpu_s if always else tier.idle_cpu_vcpu_s
        memory_price = tier.instance_memory_gib_s if always else tier.idle_memory_gib_s
        rate = service.cpu.vcpu * cpu_price + service.memory_mib / 1024 * memory_price
        items.append(LineItem(f"{warm} warm instance(s), {region}", warm * seconds, "instance-second", rate))
    return FrontDoorCost(tuple(items), others)


def front_door_markdown(settings: Any, rps: float) -> str:
    cost = front_door_cost(settings, rps)
    if cost is None:
        return ""
    lines = [
        "#### Several regions and the front door",
        "",
        "| item | quantity | unit price | per month |",
        "|---|---:|---:|---:|",
        *(
            f"| {i.item} | {i.quantity:,.0f} × {i.unit} | {_price(i.unit_price)} / {i.unit} "
            f"| ${i.cost:,.2f} |"
            for i in cost.items
        ),
        f"| **Added** | | | **${cost.total:,.2f}** |",
        "",
        "Minimum instances are kept in every region (service health needs one each); the other "
        f"regions' ({', '.join(cost.other_regions) or 'none'}) are billed idle above, their traffic "
        "is not: the estimate above serves it all in gcp:region. "
        f"Prices: {LB_PRICES_URL}, {ARMOR_PRICES_URL}, transcribed {PRICES_AS_OF}; load-balancer data "
        "processing and egress are not included.",
    ]
    return "\n".join(lines) + "\n"


def _price(value: float) -> str:
    return "$" + f"{value:.10f}".rstrip("0").rstrip(".")
