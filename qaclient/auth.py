"""Identity token for authenticated Cloud Run endpoints.

Cloud Run services that are not public want `Authorization: Bearer <identity token>` from
a member with roles/run.invoker. Where the token comes from, first match wins:
`--token`, the `QA_ID_TOKEN` environment variable, then `gcloud auth
print-identity-token` — tried only for non-local hosts and only if gcloud is on PATH.
Tokens last about an hour, longer than any sensible load run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Mapping

from qaclient.urls import is_local

TOKEN_ENV = "QA_ID_TOKEN"


def gcloud_identity_token(timeout_s: float = 20.0) -> str | None:
    """`gcloud auth print-identity-token`, or None when gcloud is missing or fails."""
    gcloud = shutil.which("gcloud")
    if not gcloud:
        return None
    try:
        done = subprocess.run(
            [gcloud, "auth", "print-identity-token"],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    token = done.stdout.strip()
    return token if done.returncode == 0 and token else None


def resolve_token(
    url: str,
    explicit: str | None = None,
    *,
    use_gcloud: bool = True,
    env: Mapping[str, str] | None = None,
    gcloud: Callable[[], str | None] = gcloud_identity_token,
) -> tuple[str | None, str]:
    """(token or None, where it came from) for requests to `url`."""
    environ = os.environ if env is None else env
    if explicit:
        return explicit, "--token"
    if environ.get(TOKEN_ENV):
        return environ[TOKEN_ENV], TOKEN_ENV
    if use_gcloud and not is_local(url):
        token = gcloud()
        if token:
            return token, "gcloud auth print-identity-token"
    return None, "none"


def auth_headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}
