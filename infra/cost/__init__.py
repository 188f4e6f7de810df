"""What a stack costs per month on Cloud Run: the model (`model`), the dated list prices
(`prices`) and the review section (`report`). Plain Python: no Pulumi, no network."""

from infra.cost.model import (
    DEFAULT_LATENCY_MS,
    CostInputs,
    CostReport,
    Estimate,
    LineItem,
    break_even_rps,
    estimate,
)
from infra.cost.report import as_dict, cost_section, render_markdown

__all__ = [
    "DEFAULT_LATENCY_MS",
    "CostInputs",
    "CostReport",
    "Estimate",
    "LineItem",
    "as_dict",
    "break_even_rps",
    "cost_section",
    "estimate",
    "render_markdown",
]
