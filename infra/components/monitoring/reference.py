"""docs/observability.md's alert table and dashboard layout, generated from the builders so the
docs name exactly the alerts and tiles a stack declares (a test compares the two).

`python -m infra monitoring-tables --write docs/observability.md` refreshes them.
"""

from __future__ import annotations

from pathlib import Path

from infra.components.monitoring import alerts, dashboard, promql_alerts, slo

START, END = "<!-- monitoring-tables:start -->", "<!-- monitoring-tables:end -->"
# Placeholders for the settings a policy's text quotes: the docs speak of the setting, not a value.
_EXAMPLE = {"max_instances": 10, "model_load_seconds": 30}


def _check_first(text: str) -> str:
    return " ".join(text.split("Check first:", 1)[-1].split()).replace("|", "\\|")


def _when(spec: alerts.AlertSpec) -> str:
    joiner = " AND " if spec.combiner == "AND" else " OR "
    return joiner.join(c["display_name"] for c in spec.conditions).replace("|", "\\|")


def alert_rows() -> list[tuple[str, alerts.AlertSpec]]:
    rows: list[tuple[str, alerts.AlertSpec]] = []
    for kind, goal in (("availability", 0.995), ("latency", 0.95)):
        spec = slo.SloSpec(kind, goal, 30, 1000)
        for window in slo.BURN_RATE_WINDOWS:
            conditions = tuple(slo.burn_rate_conditions(f"…/serviceLevelObjectives/{kind}", window, 30))
            rows.append(
                (
                    "Cloud Run",
                    alerts.AlertSpec(
                        f"{kind}-burn-{window.name}",
                        "",
                        window.severity,
                        slo.burn_rate_documentation(spec, window, "SERVICE"),
                        conditions,
                        combiner="AND",
                    ),
                )
            )
    rows += [("Cloud Run", s) for s in alerts.cloud_run_alerts("SERVICE", **_EXAMPLE)]
    uptime = alerts.uptime_alert("SERVICE")
    rows.append(
        (
            "both (public; private Cloud Run with OIDC)",
            alerts.AlertSpec(
                uptime.key,
                "",
                uptime.severity,
                uptime.documentation,
                tuple(alerts.uptime_conditions("CHECK", "…")),
            ),
        )
    )
    knative = [
        *promql_alerts.knative_burn_rate_alerts("SERVICE", "NAMESPACE", 0.995, 30),
        *promql_alerts.knative_alerts("SERVICE", "NAMESPACE"),
    ]
    rows += [("Knative", s) for s in knative]
    return rows


def alert_table() -> str:
    lines = ["| alert | platform | severity | fires when | check first |", "|---|---|---|---|---|"]
    for platform, spec in alert_rows():
        check = _check_first(spec.documentation)
        lines.append(f"| `{spec.key}` | {platform} | {spec.severity} | {_when(spec)} | {check} |")
    return "\n".join(lines) + "\n"


def layout_table(title: str, widgets: list[dict]) -> str:
    lines = [f"**{title}**", "", "| left | right |", "|---|---|"]
    for row in dashboard.layout_rows(widgets):
        left, right = (*row, "")[:2]
        lines.append(f"| {left} | {right} |")
    return "\n".join(lines) + "\n"


def tables() -> str:
    return "\n".join(
        [
            "### Dashboard layout",
            "",
            layout_table("Cloud Run", dashboard.cloud_run_widgets("SERVICE")),
            layout_table("Knative", dashboard.knative_widgets("NAMESPACE")),
            "### Alerts",
            "",
            alert_table(),
        ]
    )


def block(text: str) -> str:
    return text[text.index(START) + len(START) : text.index(END)].strip("\n") + "\n"


def update(path: Path) -> None:
    head, rest = path.read_text().split(START, 1)
    tail = rest.split(END, 1)[1]
    path.write_text(f"{head}{START}\n{tables()}{END}{tail}")
