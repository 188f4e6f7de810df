"""The cost estimate as a reviewer reads it: a markdown section, or a JSON-ready dict."""

from __future__ import annotations

from typing import Any

from infra.cost import prices as p
from infra.cost.model import DEFAULT_LATENCY_MS, CostInputs, CostReport, Estimate, LineItem, estimate


def _money(value: float) -> str:
    return f"${value:,.2f}" if value >= 0.01 or value == 0 else f"${value:.4f}"


def _unit_price(item: LineItem) -> str:
    if item.unit == "requests":
        return f"${item.unit_price * 1e6:.2f} / million"
    return "$" + f"{item.unit_price:.10f}".rstrip("0") + f" / {item.unit.removesuffix('-s')}-second"


def _qty(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.2f}"


def render_markdown(report: CostReport, title: str | None = None) -> str:
    i, s, a = report.inputs, report.serverless, report.always_on
    name = title or f"Monthly cost estimate{f': stack {i.label}' if i.label else ''}"
    billing = (
        "instance-based billing (CPU always allocated)"
        if s.billing == "instance-based"
        else "request-based billing (CPU only while handling requests)"
    )
    gpu = f", 1 × {i.gpu}" if i.gpu else ""
    lines = [
        f"## {name}",
        "",
        f"Cloud Run, {i.region} (Tier {report.tier}). Instance {i.cpu:g} vCPU, "
        f"{i.memory_gib:g} GiB{gpu}; concurrency {i.concurrency}; min {i.min_instances} / max "
        f"{i.max_instances} instances; {billing}.",
        f"Traffic: a steady {report.rps:g} req/s at {report.latency_ms:g} ms each → "
        f"{report.in_flight:.2f} requests in flight on average, {report.instances_needed} "
        f"instance(s) needed; {s.instances:.3f} instance(s) billed on average.",
        "",
        "| item | quantity | unit price | per month |",
        "|---|---:|---:|---:|",
    ]
    for item in s.items:
        if item.quantity:
            lines.append(
                f"| {item.item} | {_qty(item.quantity)} {item.unit} | "
                f"{_unit_price(item)} | {_money(item.cost)} |"
            )
    if s.free_tier_discount:
        lines.append(f"| Free tier | | | −{_money(s.free_tier_discount)} |")
    lines.append(f"| **Total ({s.billing})** | | | **{_money(s.total)}** |")
    ratio = f" — {a.total / s.total:,.1f}× this estimate" if s.total > 0 else ""
    lines += [
        "",
        f"Always on instead ({a.instances:g} instance(s) of the same size, instance-based "
        f"billing, {report.hours:g} h): **{_money(a.total)}** per month{ratio}.",
    ]
    if report.break_even_rps is not None:
        lines.append(
            f"Request-based billing stays cheaper than one always-on instance up to about "
            f"{report.break_even_rps:,.2f} req/s at {report.latency_ms:g} ms per request."
        )
    if report.notes:
        lines += ["", *(f"- {note}" for note in report.notes)]
    free = "applied (it is shared by the whole billing account)" if report.free_tier else "not applied"
    lines += [
        "",
        f"Prices: {p.CURRENCY} list prices from {p.SOURCE_URL}, transcribed "
        f"{p.PRICES_AS_OF} (infra/cost/prices.py). Free tier {free}. Not included: start-up "
        "time of new instances, egress, image storage, logging, builds, committed-use "
        "discounts, taxes.",
    ]
    return "\n".join(lines) + "\n"


def cost_section(
    settings: Any, rps: float, latency_ms: float = DEFAULT_LATENCY_MS, free_tier: bool = False
) -> str:
    """A markdown section for the offline render: the stack's monthly cost at `rps`."""
    inputs = settings if isinstance(settings, CostInputs) else CostInputs.from_settings(settings)
    return render_markdown(estimate(inputs, rps, latency_ms, free_tier=free_tier))


def as_dict(report: CostReport) -> dict:
    def est(e: Estimate) -> dict:
        return {
            "billing": e.billing,
            "instances": e.instances,
            "items": [
                {
                    "item": i.item,
                    "quantity": i.quantity,
                    "unit": i.unit,
                    "unit_price": i.unit_price,
                    "cost": i.cost,
                }
                for i in e.items
            ],
            "free_tier_discount": e.free_tier_discount,
            "total": e.total,
        }

    return {
        "inputs": report.inputs.__dict__,
        "rps": report.rps,
        "latency_ms": report.latency_ms,
        "hours": report.hours,
        "tier": report.tier,
        "in_flight": report.in_flight,
        "instances_needed": report.instances_needed,
        "serverless": est(report.serverless),
        "always_on": est(report.always_on),
        "break_even_rps": report.break_even_rps,
        "notes": list(report.notes),
        "prices": {"source": p.SOURCE_URL, "as_of": p.PRICES_AS_OF, "currency": p.CURRENCY},
    }
