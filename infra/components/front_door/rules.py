"""Pure builders of the front door's parts (tested without Pulumi): GCP names, the Cloud Armor
rules, outlier detection. Values are the provider's input names (snake_case)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

from infra.load_balancing import (
    COMPUTE_NAME_MAX,
    EXCEED_ACTION,
    GATE_CANDIDATE,
    GATE_PATH_PREFIX,
    RATE_LIMIT_INTERVAL_SECONDS,
)
from infra.rollout.traffic import CANDIDATE_TAG

THROTTLE_PRIORITY = 1000
DEFAULT_RULE_PRIORITY = 2147483647  # Cloud Armor's default rule: the lowest priority, matches all
MATCH_ALL = {"versioned_expr": "SRC_IPS_V1", "config": {"src_ip_ranges": ["*"]}}
IAP_ACCESSOR_ROLE = "roles/iap.httpsResourceAccessor"


def compute_name(prefix: str, suffix: str) -> str:
    """`PREFIX-SUFFIX`, the prefix cut so the whole fits a compute resource name."""
    room = COMPUTE_NAME_MAX - len(suffix) - 1
    return f"{prefix[:room].rstrip('-')}-{suffix}"


def url_map_name(prefix: str) -> str:
    """The front door's URL map: its metrics (and the alerts on them) are labelled with it."""
    return compute_name(prefix, "urlmap")


def backend_name(prefix: str) -> str:
    """The backend service users' requests go to: the front door's alerts count its requests only
    (the gate's requests to a candidate go to backend services of their own)."""
    return compute_name(prefix, "backend")


def gate_path(target: str, region: str) -> str:
    """Where the gate reaches `target` (candidate or serving) in `region` through the front door."""
    return f"{GATE_PATH_PREFIX}/{target}/{region}/"


def gate_url(domain: str, target: str, region: str) -> str:
    """The base URL the gate calls (routes are appended to it, e.g. `/ready`)."""
    return f"https://{domain}{gate_path(target, region).rstrip('/')}"


def gate_tag(target: str) -> str | None:
    """The Cloud Run traffic tag a gate target's serverless NEG names: the candidate's tag, or
    none for the serving revision (at the gate the candidate takes 0 %, so the service's own
    traffic split is the serving revision alone)."""
    return CANDIDATE_TAG if target == GATE_CANDIDATE else None


def gate_route_rules(routes: Sequence[tuple[str, Any]]) -> list[dict[str, Any]]:
    """(path prefix, backend service id) → URL-map route rules: a request under the prefix goes to
    that backend with the prefix cut to `/`, so `/_rollout/candidate/R/ready` reaches `/ready`."""
    return [
        {
            "priority": priority,
            "match_rules": [{"prefix_match": prefix}],
            "service": service,
            "route_action": {"url_rewrite": {"path_prefix_rewrite": "/"}},
        }
        for priority, (prefix, service) in enumerate(routes, start=1)
    ]


def url_map_tests(
    host: str, path: str, default: Any, routes: Sequence[tuple[str, Any]]
) -> list[dict[str, Any]]:
    """URL-map tests, which Compute Engine runs on every update of the map and refuses an update
    that fails: `path` on the host reaches the users' backend service (`default`), and the same
    path under each gate prefix reaches that prefix's own backend service."""
    tests = [{"description": "users' requests", "host": host, "path": path, "service": default}]
    tests += [
        {"description": f"gate {prefix}", "host": host, "path": prefix.rstrip("/") + path, "service": routed}
        for prefix, routed in routes
    ]
    return tests


def certificate_suffix(domain: str) -> str:
    """The certificate's name carries a hash of its domain: a new domain is a new certificate,
    created before the old one is deleted (a certificate in use by the proxy cannot be)."""
    return f"cert-{hashlib.sha256(domain.encode()).hexdigest()[:8]}"


def security_rules(rate_limit_per_minute: int) -> list[dict[str, Any]]:
    """A throttle per client IP (when the limit is on), then the default rule that lets the rest
    through. Cloud Armor requires the default rule once a policy lists rules."""
    rules: list[dict[str, Any]] = []
    if rate_limit_per_minute:
        rules.append(
            {
                "priority": THROTTLE_PRIORITY,
                "description": f"At most {rate_limit_per_minute} requests a minute per client IP, then 429",
                "action": "throttle",
                "match": MATCH_ALL,
                "rate_limit_options": {
                    "conform_action": "allow",
                    "exceed_action": EXCEED_ACTION,
                    "enforce_on_key": "IP",
                    "rate_limit_threshold": {
                        "count": rate_limit_per_minute,
                        "interval_sec": RATE_LIMIT_INTERVAL_SECONDS,
                    },
                },
            }
        )
    rules.append(
        {
            "priority": DEFAULT_RULE_PRIORITY,
            "description": "Everything else",
            "action": "allow",
            "match": MATCH_ALL,
        }
    )
    return rules


def outlier_detection() -> dict[str, Any]:
    """Eject a region's NEG after 5 consecutive 5xx for 30 s (doubling each time), never more than
    half of them: a region failing requests loses its share before service health reacts."""
    return {
        "consecutive_errors": 5,
        "interval": {"seconds": 10},
        "base_ejection_time": {"seconds": 30},
        "max_ejection_percent": 50,
    }


def member_slug(member: str) -> str:
    """A stable logical name per IAM member, so reordering the list replaces nothing."""
    digest = hashlib.sha256(member.encode()).hexdigest()[:6]
    return f"{re.sub(r'[^a-z0-9]+', '-', member.lower()).strip('-')[:40]}-{digest}"
