"""A billing budget on the project: e-mails at 50/90/100 % of the monthly amount.

Scoped to this project (billing accounts often pay for several). The amount is left without a
currency code: the budget then uses the billing account's own currency, which is the only one
the API accepts.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pulumi

THRESHOLDS = (0.5, 0.9, 1.0)
# The API a budget is created through (enabled by the stack; the policy pack keys on it too).
BUDGET_API = "billingbudgets.googleapis.com"


def budget_args(
    billing_account: str, project: pulumi.Input[str], amount: float, channels: list[Any], display_name: str
) -> dict[str, Any]:
    """`project`: "projects/NUMBER" (the API's form for a budget filter)."""
    units, fraction = divmod(Decimal(str(amount)), 1)
    specified: dict[str, Any] = {"units": str(int(units))}
    if fraction:
        specified["nanos"] = int(fraction * 10**9)
    return {
        "billing_account": billing_account,
        "display_name": display_name,
        "budget_filter": {"projects": [project], "calendar_period": "MONTH"},
        "amount": {"specified_amount": specified},
        "threshold_rules": [{"threshold_percent": t, "spend_basis": "CURRENT_SPEND"} for t in THRESHOLDS],
        "all_updates_rule": {
            "monitoring_notification_channels": channels,
            "disable_default_iam_recipients": False,
        },
    }
