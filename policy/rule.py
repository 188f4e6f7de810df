"""What a rule is, and how a set of rules is run over a stack's resources.

A `Rule` is a pure function over one resource's (type, inputs); a `StackRule` sees every
resource at once, for checks that relate several (an IAM grant and the service it opens).
Both carry their name, enforcement level, description (with checkov / trivy / CIS ids) and the
fix that every violation message ends with. The same objects back the CrossGuard pack
(`policy.pack`) and the offline check (`policy.cli`), so the two can never disagree.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from policy.values import normalize


class Level(enum.StrEnum):
    MANDATORY = "mandatory"  # blocks `pulumi up`; fails `python -m policy check`
    ADVISORY = "advisory"  # reported, never blocks


@dataclass(frozen=True)
class Resource:
    """One declared resource, as the render prints it and as the pack receives it."""

    type: str
    name: str
    inputs: Mapping[str, Any]
    parent: str | None = None  # logical name of the parent resource (None: the stack)
    urn: str | None = None  # set in the pack, so violations point at the resource

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> Resource:
        """From one entry of `python -m infra render STACK --format json`."""
        return cls(
            type=str(raw["type"]),
            name=str(raw["name"]),
            inputs=normalize(raw.get("inputs") or {}),
            parent=raw.get("parent"),
        )


# A resource check: (type, inputs) → one problem description per violation (no fix; the rule
# adds it). A stack check: all resources → (offending resource, problem) pairs.
ResourceCheck = Callable[[str, Mapping[str, Any]], Iterable[str]]
StackCheck = Callable[[Sequence[Resource]], Iterable[tuple[Resource, str]]]


@dataclass(frozen=True, kw_only=True)
class _RuleInfo:
    name: str  # kebab-case, unique in the pack; also the CrossGuard policy name
    level: Level
    what: str  # one sentence: what is checked
    why: str  # one sentence: why it matters
    fix: str  # imperative: how to make the violation go away
    ids: tuple[str, ...] = ()  # matching checkov / trivy (AVD) / CIS ids, where one exists

    @property
    def area(self) -> str:
        return self.name.split("-", 1)[0]

    @property
    def description(self) -> str:
        ids = f" [{', '.join(self.ids)}]" if self.ids else ""
        return f"{self.what} {self.why}{ids}"


@dataclass(frozen=True, kw_only=True)
class Rule(_RuleInfo):
    check: ResourceCheck
    types: frozenset[str] = frozenset()
    # For rules over a family of types (every IAM resource); used instead of `types` when set.
    applies: Callable[[str], bool] | None = None

    def applies_to(self, resource_type: str) -> bool:
        if self.applies is not None:
            return self.applies(resource_type)
        return resource_type in self.types


@dataclass(frozen=True, kw_only=True)
class StackRule(_RuleInfo):
    check_stack: StackCheck
    # The resource types it reports on (documentation, and the README table).
    types: frozenset[str] = frozenset()


AnyRule = Rule | StackRule


@dataclass(frozen=True, order=True)
class Violation:
    level: Level
    rule: str
    resource: str
    problem: str
    fix: str
    resource_type: str = ""

    @property
    def message(self) -> str:
        return f"{self.problem}. Fix: {self.fix}"

    def line(self) -> str:
        """The offline report's one line: level, rule, resource, what is wrong and the fix."""
        return f"{self.level} {self.rule} {self.resource}: {' '.join(self.message.split())}"


def check_resource(rule: Rule, resource: Resource) -> list[Violation]:
    if not rule.applies_to(resource.type):
        return []
    return [
        Violation(rule.level, rule.name, resource.name, problem, rule.fix, resource.type)
        for problem in rule.check(resource.type, resource.inputs)
    ]


def check_stack(rule: StackRule, resources: Sequence[Resource]) -> list[Violation]:
    return [
        Violation(rule.level, rule.name, resource.name, problem, rule.fix, resource.type)
        for resource, problem in rule.check_stack(resources)
    ]


def evaluate(rules: Iterable[AnyRule], resources: Sequence[Resource]) -> list[Violation]:
    """Every violation of `rules` in `resources`: mandatory first, then by rule and resource."""
    violations: list[Violation] = []
    for rule in rules:
        if isinstance(rule, StackRule):
            violations += check_stack(rule, resources)
        else:
            for resource in resources:
                violations += check_resource(rule, resource)
    order = {Level.MANDATORY: 0, Level.ADVISORY: 1}
    return sorted(violations, key=lambda v: (order[v.level], v.rule, v.resource, v.problem))
