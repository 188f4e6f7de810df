"""The Cloud Run startup probe: present on the serving container, and within Cloud Run's cap."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from policy import tokens
from policy.rule import Level, Rule
from policy.rules.cloud_run_template import serving_container
from policy.values import as_number, get, is_unknown
from service import routes

SERVICE = frozenset({tokens.CLOUD_RUN_SERVICE})

# Cloud Run caps a service's startup probe at initialDelaySeconds + failureThreshold ×
# periodSeconds = 240 s; past that the revision never becomes ready, whatever the model does.
STARTUP_BUDGET_SECONDS = 240
# Cloud Run's defaults for the fields a probe leaves out.
_DEFAULTS = {"initialDelaySeconds": 0.0, "periodSeconds": 10.0, "failureThreshold": 3.0}
_HANDLERS = ("httpGet", "grpc", "tcpSocket")


def _probe(inputs: Mapping[str, Any]) -> Any:
    container = serving_container(inputs)
    return None if container is None else container.get("startupProbe")


def _present(_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    if is_unknown(get(inputs, "template.containers")) or serving_container(inputs) is None:
        return
    probe = _probe(inputs)
    if is_unknown(probe):
        return
    if not isinstance(probe, Mapping):
        yield "the serving container has no startupProbe"
    elif not any(probe.get(handler) is not None for handler in _HANDLERS):
        yield "the startupProbe has no httpGet, grpc or tcpSocket check"


def _budget(_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    probe = _probe(inputs)
    if not isinstance(probe, Mapping):
        return  # absent or unknown: cloudrun-startup-probe reports the absence
    fields = {}
    for key, default in _DEFAULTS.items():
        value = probe.get(key)
        if is_unknown(value):
            return
        number = as_number(value)
        fields[key] = default if number is None else number
    total = fields["initialDelaySeconds"] + fields["failureThreshold"] * fields["periodSeconds"]
    if total > STARTUP_BUDGET_SECONDS:
        yield (
            f"startupProbe allows {total:g}s (initialDelaySeconds + failureThreshold × "
            f"periodSeconds), above Cloud Run's {STARTUP_BUDGET_SECONDS}s cap"
        )


RULES = [
    Rule(
        name="cloudrun-startup-probe",
        level=Level.MANDATORY,
        what="The serving Cloud Run container has a startup probe (HTTP, gRPC or TCP).",
        why=(
            "A model takes seconds to load; without a probe on its readiness Cloud Run sends "
            "traffic as soon as the port opens, and cold-start requests fail or hang."
        ),
        fix=f"add a startupProbe on the readiness endpoint (GET {routes.READY}) sized to the model's "
        "load time",
        types=SERVICE,
        check=_present,
    ),
    Rule(
        name="cloudrun-startup-probe-budget",
        level=Level.MANDATORY,
        what=(
            "The startup probe's initialDelaySeconds + failureThreshold × periodSeconds is at "
            f"most {STARTUP_BUDGET_SECONDS}s."
        ),
        why=(
            f"Cloud Run caps a service's startup probe at {STARTUP_BUDGET_SECONDS}s: a longer "
            "budget is rejected or cut short, so a slow-loading revision never becomes ready."
        ),
        fix=(
            "lower `modelLoadSeconds` (or the probe's failureThreshold / periodSeconds); load the "
            "model faster if it really needs more"
        ),
        types=SERVICE,
        check=_budget,
    ),
]
