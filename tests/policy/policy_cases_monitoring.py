"""Passing and failing fixtures for the monitoring and budget rules."""

from __future__ import annotations

from policy_helpers import KNATIVE, KNATIVE_SERVICE, PROJECT_SERVICE, SERVICE, case, res

SERVICE_TYPE = "gcp:monitoring/genericService:GenericService"
SLO = "gcp:monitoring/slo:Slo"
ALERT = "gcp:monitoring/alertPolicy:AlertPolicy"
CHANNEL = "gcp:monitoring/notificationChannel:NotificationChannel"
BUDGET = "gcp:billing/budget:Budget"
CHANNELS = ["projects/example-project/notificationChannels/123"]


def prod(name: str, stack: str = "prod"):
    return res(
        "gcp:cloudrunv2/service:Service", f"svc-{name}", SERVICE, {"name": name, "labels.stack": stack}
    )


def slo(name: str, kind: str = "availability"):
    sli = {"availability": {"enabled": True}} if kind == "availability" else {"latency": {"threshold": "1s"}}
    return [
        res(
            SERVICE_TYPE,
            f"mon-{name}",
            {
                "serviceId": name,
                "basicService": {"serviceType": "CLOUD_RUN", "serviceLabels": {"service_name": name}},
            },
        ),
        res(SLO, f"slo-{name}-{kind}", {"service": name, "sloId": kind, "goal": 0.995, "basicSli": sli}),
    ]


def burn_alerts(name: str, windows=((3600, 300), (21600, 1800)), channels=CHANNELS, kind="availability"):
    slo_name = f"projects/example-project/services/{name}/serviceLevelObjectives/{kind}"
    return [
        res(
            ALERT,
            f"alert-{name}-{long}",
            {
                "combiner": "AND",
                "notificationChannels": channels,
                "conditions": [
                    {"conditionThreshold": {"filter": f'select_slo_burn_rate("{slo_name}", "{w}s")'}}
                    for w in (long, short)[: 2 if short else 1]
                ],
            },
        )
        for long, short in windows
    ]


def knative(name: str, namespace: str):
    return res(
        KNATIVE,
        f"kn-{name}",
        KNATIVE_SERVICE,
        {"metadata.name": name, "metadata.namespace": namespace, "metadata.labels.stack": "prod"},
    )


def promql_alerts(namespace: str):
    def query(window: str) -> str:
        scope = f'namespace="{namespace}",route="/predict"'
        return f'sum(rate(qa_x{{{scope},code=~"5.."}}[{window}])) / sum(rate(qa_x{{{scope}}}[{window}])) > 1'

    return [
        res(
            ALERT,
            f"alert-{namespace}-{long}",
            {
                "combiner": "AND",
                "notificationChannels": CHANNELS,
                "conditions": [
                    {"conditionPrometheusQueryLanguage": {"query": query(w)}} for w in (long, short)
                ],
            },
        )
        for long, short in (("60m", "5m"), ("360m", "30m"))
    ]


MONITORING = [
    *slo("watched"),
    *burn_alerts("watched"),
    *slo("latonly", "latency"),
    *burn_alerts("latonly", kind="latency"),
    *slo("single"),
    *burn_alerts("single", windows=((3600, 0), (21600, 0))),
    *slo("silent"),
    *burn_alerts("silent", channels=[]),
    *promql_alerts("qa"),
    res(CHANNEL, "channel", {"type": "email", "labels": {"email_address": "oncall@example.com"}}),
]

BUDGET_OK = {
    "billingAccount": "0123-4567-89AB",
    "amount": {"specifiedAmount": {"units": "100"}},
    "budgetFilter": {"projects": ["projects/123"]},
    "thresholdRules": [{"thresholdPercent": 0.5}, {"thresholdPercent": 0.9}, {"thresholdPercent": 1.0}],
    "allUpdatesRule": {"monitoringNotificationChannels": CHANNELS},
}

CASES = [
    case(
        "monitoring-prod-slo-alerts",
        [
            prod("watched"),
            prod("unwatched"),
            prod("latonly"),
            prod("single"),
            prod("silent"),
            prod("dev-one", stack="dev"),
            knative("kn-watched", "qa"),
            knative("kn-unwatched", "other"),
            *MONITORING,
        ],
        passing={"svc-watched", "svc-dev-one", "kn-kn-watched"},
        failing={"svc-unwatched", "svc-latonly", "svc-single", "svc-silent", "kn-kn-unwatched"},
        ignored={r.name for r in MONITORING},
    ),
    case(
        "monitoring-budget",
        [
            res(PROJECT_SERVICE, "apis-billingbudgets", {"service": "billingbudgets.googleapis.com"}),
            res(PROJECT_SERVICE, "apis-run", {"service": "run.googleapis.com"}),
            res(BUDGET, "budget-ok", BUDGET_OK),
            res(BUDGET, "budget-unscoped", BUDGET_OK, {"budgetFilter.projects": []}),
            res(BUDGET, "budget-no-100", BUDGET_OK, {"thresholdRules": [{"thresholdPercent": 0.9}]}),
            res(
                BUDGET,
                "budget-silent",
                BUDGET_OK,
                {
                    "allUpdatesRule": {
                        "monitoringNotificationChannels": [],
                        "disableDefaultIamRecipients": True,
                    }
                },
            ),
        ],
        passing={"apis-billingbudgets", "apis-run", "budget-ok"},
        failing={"budget-unscoped", "budget-no-100", "budget-silent"},
    ),
]
