"""Every rule on its fixtures, checkov style: the exact sets of passing and failing resources."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from policy_cases import ALL_CASES
from policy_helpers import Case, judge

from policy.catalog import BY_NAME, RULES
from policy.docs import BEGIN, END, rule_table


@pytest.mark.parametrize("case", ALL_CASES, ids=str)
def test_rule_passes_and_fails_exactly_the_expected_resources(case: Case):
    names = [r.name for r in case.resources]
    assert len(names) == len(set(names)), "fixture names must be unique within a case"
    assert set(names) == case.passing | case.failing | case.ignored, "every fixture is expected"
    passing, failing = judge(case.rule, case.resources)
    assert (passing, failing) == (set(case.passing), set(case.failing))


def test_every_rule_has_a_passing_and_a_failing_fixture():
    cases = Counter(c.rule for c in ALL_CASES)
    assert set(cases) == set(BY_NAME), "every rule has a case, every case a rule"
    assert all(n == 1 for n in cases.values()), "one case per rule"
    for case in ALL_CASES:
        assert case.passing and case.failing, case.rule


def test_there_are_at_least_25_rules_covering_every_area():
    areas = Counter(rule.area for rule in RULES)
    assert len(RULES) >= 25
    assert {"cloudrun", "iam", "artifact", "apis", "gke", "knative"} <= set(areas)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_every_rule_is_described_with_a_level_and_a_fix(rule):
    assert rule.name == rule.name.lower() and " " not in rule.name
    assert rule.what.endswith(".") and rule.why.endswith(".")
    assert rule.fix and not rule.fix.endswith(".") and "\n" not in rule.fix
    assert str(rule.level) in ("mandatory", "advisory")
    for ref in rule.ids:
        assert ref.startswith(("CKV_GCP_", "AVD-GCP-", "CIS GCP ", "CIS GKE ")), ref
        assert ref in rule.description


def test_the_readme_table_is_the_catalog():
    readme = (Path(__file__).resolve().parents[2] / "policy" / "README.md").read_text()
    begin, end = readme.index(BEGIN), readme.index(END) + len(END)
    assert readme[begin:end] == rule_table(), "regenerate with: python -m policy rules"


def test_budget_api_without_a_budget_fails():
    from policy_helpers import PROJECT_SERVICE, res, violations_of

    api = res(PROJECT_SERVICE, "apis-billingbudgets", {"service": "billingbudgets.googleapis.com"})
    assert violations_of("monitoring-budget", [api]) == [
        "the stack enables the Budget API (a billing account is set) but declares no budget. "
        "Fix: set `monthlyBudget` with `billingAccount` (the ServiceMonitoring component declares the budget)"
    ]
