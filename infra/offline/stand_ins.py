"""Values only a real deployment knows, made up deterministically for the offline render.

They are made to look made up, so that nobody deploys one (`kubectl apply` of a made-up digest
pulls an image that does not exist): digests start with "0ff11e" ("offline"), addresses come from
the ranges RFC 5737 reserves for documentation. `render.stand_ins` lists them in the review formats.
"""

from __future__ import annotations

import hashlib
import re

OFFLINE_ACCESS_TOKEN = "offline-access-token-never-printed"  # a fake; tests assert it is masked


def fake_hash(*parts: object, length: int = 64) -> str:
    return hashlib.sha256("\0".join(map(str, parts)).encode()).hexdigest()[:length]


def project_number(project: str) -> str:
    return str(int(fake_hash(project, length=12), 16))[:12].rjust(12, "1")


STAND_IN_DIGEST_PREFIX = "0ff11e"
STAND_IN_DIGEST = re.compile(
    rf"sha256:{STAND_IN_DIGEST_PREFIX}[0-9a-f]{{{64 - len(STAND_IN_DIGEST_PREFIX)}}}"
)
STAND_IN_NETWORKS = ("203.0.113", "198.51.100")  # TEST-NET-3 (addresses), TEST-NET-2 (endpoints)
STAND_IN_IP = re.compile(r"\b(?:203\.0\.113|198\.51\.100)\.\d{1,3}\b")


def fake_digest(*parts: object) -> str:
    """A deterministic image digest, marked as a stand-in by its prefix."""
    return f"sha256:{STAND_IN_DIGEST_PREFIX}{fake_hash(*parts, length=64 - len(STAND_IN_DIGEST_PREFIX))}"


def fake_ip(*parts: object, network: str = STAND_IN_NETWORKS[0]) -> str:
    """A deterministic IPv4 address from a documentation range: plausible, never anyone's."""
    return f"{network}.{1 + bytes.fromhex(fake_hash(*parts, length=2))[0] % 254}"
