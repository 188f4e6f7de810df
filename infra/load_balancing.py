"""The global external Application Load Balancer and Cloud Armor, as data: what the front door
declares and what the settings check (docs/multi-region.md)."""

from __future__ import annotations

# cloud.google.com/armor/docs/rate-limiting-overview (checked 2026-12): a throttle rule's
# rate_limit_threshold.count is 1-1,000,000 per interval; the front door counts per minute.
RATE_LIMIT_INTERVAL_SECONDS = 60
RATE_LIMIT_COUNT_MAX = 1_000_000
# Cloud Armor's recommended status for a client over its rate (the same page).
EXCEED_ACTION = "deny(429)"
# The global external Application Load Balancer (not the classic one, EXTERNAL).
SCHEME = "EXTERNAL_MANAGED"
COMPUTE_NAME_MAX = 63  # compute resource names: RFC 1035, at most 63 characters
# The front door listens on HTTPS and redirects HTTP: one global forwarding rule each.
HTTPS_PORT = "443"
HTTP_PORT = "80"
FRONT_DOOR_PORTS = (HTTPS_PORT, HTTP_PORT)
# The gated rollout's way in behind the front door (the services' run.app URLs are off): a path
# under this prefix names a target and a region, e.g. /_rollout/candidate/europe-west4/ready, and
# the URL map sends it, prefix cut, to that region's candidate (its `candidate` tag) or serving
# revision. No route of the service starts with it (tests/infra/offline/test_front_door_gate.py).
GATE_PATH_PREFIX = "/_rollout"
GATE_CANDIDATE = "candidate"
GATE_SERVING = "serving"
GATE_TARGETS = (GATE_CANDIDATE, GATE_SERVING)
