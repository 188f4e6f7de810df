"""Production services are watched: an availability SLO with burn-rate alerts that reach someone;
a project whose stack manages billing has a budget."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from policy import tokens
from policy.rule import Level, Resource, StackRule
from policy.rules.cloud_run_protection import is_prod
from policy.values import get, is_unknown, objects, strings

_LOOKBACK = re.compile(r'select_slo_burn_rate\("([^"]+)",\s*"(\d+)s"\)')


def _uncertain(value) -> bool:
    """Anything unknown inside `value`: what depends on it cannot be judged (a preview)."""
    if is_unknown(value):
        return True
    if isinstance(value, dict):
        return any(_uncertain(v) for v in value.values())
    if isinstance(value, list):
        return any(_uncertain(v) for v in value)
    return False


def _of(resources: Sequence[Resource], resource_type: str) -> list[Resource]:
    return [r for r in resources if r.type == resource_type]


def _notifies(policy: Resource) -> bool:
    return any(True for _ in strings(get(policy.inputs, "notificationChannels")))


def _multi_window(policy: Resource, matches) -> bool:
    """An AND of two or more burn-rate conditions over different windows (the SRE workbook's
    long + short window), each condition accepted by `matches(condition)`."""
    if get(policy.inputs, "combiner") != "AND":
        return False
    windows = [w for c in objects(get(policy.inputs, "conditions")) if (w := matches(c)) is not None]
    return len(set(windows)) >= 2


def _cloud_run_gaps(service: Resource, resources: Sequence[Resource]) -> Iterator[str]:
    name = get(service.inputs, "name")
    declared = [*_of(resources, tokens.MONITORING_SERVICE), *_of(resources, tokens.SLO)]
    if not isinstance(name, str) or any(_uncertain(r.inputs) for r in declared):
        return
    monitoring_services = {
        get(r.inputs, "serviceId")
        for r in _of(resources, tokens.MONITORING_SERVICE)
        if get(r.inputs, "basicService.serviceType") == "CLOUD_RUN"
        and get(r.inputs, "basicService.serviceLabels.service_name") == name
        and isinstance(get(r.inputs, "serviceId"), str)
    }
    slos = {
        f"/services/{get(r.inputs, 'service')}/serviceLevelObjectives/{get(r.inputs, 'sloId')}"
        for r in _of(resources, tokens.SLO)
        if isinstance(get(r.inputs, "service"), str)
        and get(r.inputs, "service") in monitoring_services
        and get(r.inputs, "basicSli.availability.enabled") is True
    }
    if not slos:
        yield f"no availability SLO on a Cloud Monitoring service for {name}"
        return

    def window(condition) -> str | None:
        text = get(condition, "conditionThreshold.filter")
        match = _LOOKBACK.search(text) if isinstance(text, str) else None
        if match and any(match.group(1).endswith(slo) for slo in slos):
            return match.group(2)
        return None

    yield from _burn_rate_gaps(resources, window, f"{name}'s availability SLO")


def _burn_rate_gaps(resources: Sequence[Resource], window, what: str) -> Iterator[str]:
    policies = _of(resources, tokens.ALERT_POLICY)
    if any(_uncertain(p.inputs) for p in policies):  # a preview cannot read filters made from outputs
        return
    burn = [p for p in policies if _multi_window(p, window)]
    if len(burn) < 2:
        yield f"{len(burn)} multi-window burn-rate alert(s) on {what}, want a fast and a slow one"
    yield from (f"burn-rate alert {p.name} notifies no channel" for p in burn if not _notifies(p))


def _knative_gaps(service: Resource, resources: Sequence[Resource]) -> Iterator[str]:
    namespace = get(service.inputs, "metadata.namespace")
    if not isinstance(namespace, str):
        return

    def window(condition) -> str | None:
        query = get(condition, "conditionPrometheusQueryLanguage.query")
        if isinstance(query, str) and f'namespace="{namespace}"' in query and '"5.."' in query:
            found = re.findall(r"\[(\d+[smh])\]", query)
            return found[0] if found else None
        return None

    yield from _burn_rate_gaps(resources, window, f"5xx responses in namespace {namespace}")


def _prod_slos(resources: Sequence[Resource]) -> Iterator[tuple[Resource, str]]:
    channels = [r for r in resources if r.type == tokens.NOTIFICATION_CHANNEL]
    for service in resources:
        if service.type == tokens.CLOUD_RUN_SERVICE and is_prod(service.inputs):
            gaps = list(_cloud_run_gaps(service, resources))
        elif service.type == tokens.KNATIVE_SERVICE and is_prod(
            {"labels": get(service.inputs, "metadata.labels")}
        ):
            gaps = list(_knative_gaps(service, resources))
        else:
            continue
        if not channels:
            gaps.append("no notification channel in the stack")
        if gaps:  # one violation per service: what it lacks, together
            yield service, "; ".join(gaps)


def _budgets(resources: Sequence[Resource]) -> Iterator[tuple[Resource, str]]:
    budgets = _of(resources, tokens.BUDGET)
    for api in _of(resources, tokens.PROJECT_SERVICE):
        if get(api.inputs, "service") == tokens.BUDGET_API and not budgets:
            yield api, "the stack enables the Budget API (a billing account is set) but declares no budget"
    for budget in budgets:
        projects = get(budget.inputs, "budgetFilter.projects")
        if not _uncertain(projects) and not any(True for _ in strings(projects)):
            yield budget, "the budget is not scoped to a project: it would count the whole billing account"
        rules = get(budget.inputs, "thresholdRules")
        thresholds = [get(t, "thresholdPercent") for t in objects(rules)]
        if not _uncertain(rules) and not any(isinstance(t, (int, float)) and t >= 1.0 for t in thresholds):
            yield budget, "no threshold at 100 % of the budget"
        rule = get(budget.inputs, "allUpdatesRule")
        if _uncertain(rule):
            continue
        targets = get(rule, "monitoringNotificationChannels")
        notifies = any(True for _ in strings(targets)) or isinstance(get(rule, "pubsubTopic"), str)
        if not notifies and get(rule, "disableDefaultIamRecipients") is True:
            yield budget, "nobody is notified (no channels, no topic, default recipients disabled)"


RULES = [
    StackRule(
        name="monitoring-prod-slo-alerts",
        level=Level.MANDATORY,
        what=(
            "A model service labelled stack=prod has an availability SLO (Cloud Run) or 5xx ratio "
            "(Knative) with a fast and a slow multi-window burn-rate alert, and the stack has a "
            "notification channel they notify."
        ),
        why=(
            "Without them an outage of the production endpoint is found by its users; burn-rate "
            "alerts page on what spends the error budget and stay quiet on noise."
        ),
        fix="set `monitoring: true` and `alertEmails` in the prod stack (the ServiceMonitoring component)",
        types=frozenset({tokens.CLOUD_RUN_SERVICE, tokens.KNATIVE_SERVICE}),
        check_stack=_prod_slos,
    ),
    StackRule(
        name="monitoring-budget",
        level=Level.MANDATORY,
        what=(
            "A stack with a billing account set (it enables the Budget API) declares a budget, "
            "scoped to the project, with a 100 % threshold that notifies someone."
        ),
        why=(
            "A serverless endpoint scales with traffic, and so does the bill: a budget is the "
            "one alert that fires before the invoice does."
        ),
        fix="set `monthlyBudget` with `billingAccount` (the ServiceMonitoring component declares the budget)",
        types=frozenset({tokens.BUDGET, tokens.PROJECT_SERVICE}),
        check_stack=_budgets,
    ),
]
