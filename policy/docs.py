"""The README's rule table, generated from the catalog so the two cannot drift apart
(`python -m policy rules` prints it; a test compares it with policy/README.md)."""

from __future__ import annotations

from policy.catalog import RULES
from policy.rule import AnyRule

AREAS = {
    "cloudrun": "Cloud Run",
    "iam": "IAM",
    "artifact": "Artifact Registry and APIs",
    "apis": "Artifact Registry and APIs",
    "gke": "GKE and Knative",
    "knative": "GKE and Knative",
    "frontdoor": "Front door (several regions)",
    "rollout": "Rollouts",
    "monitoring": "Monitoring and cost",
}
BEGIN, END = "<!-- rules:begin -->", "<!-- rules:end -->"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _row(rule: AnyRule) -> str:
    ids = ", ".join(rule.ids) if rule.ids else "—"
    return f"| `{rule.name}` | {rule.level} | {_cell(rule.what)} | {_cell(rule.why)} | {ids} |"


def rule_table() -> str:
    lines = [BEGIN]
    for area in dict.fromkeys(AREAS.values()):
        rules = [r for r in RULES if AREAS[r.area] == area]
        lines += [
            "",
            f"### {area} ({len(rules)})",
            "",
            "| rule | level | what | why | checkov / trivy / CIS |",
            "|---|---|---|---|---|",
            *(_row(r) for r in rules),
        ]
    return "\n".join([*lines, "", END])
