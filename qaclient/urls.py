"""The service's URLs from the one a user gives: a bare service URL means its routes."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from service import routes

# Hosts that are this machine: no identity token is fetched for them, and their CPU can be read.
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})  # noqa: S104 - compared, not bound


def is_local(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host in LOCAL_HOSTS or host.startswith("127.") or host.endswith(".localhost")


def predict_url(url: str) -> str:
    """A bare service URL (`https://x.run.app`) means its predict route; a path is kept."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an http(s) URL: {url!r}")
    if parts.path in ("", "/"):
        parts = parts._replace(path=routes.PREDICT)
    return urlunsplit(parts)


def route_url(url: str, route: str) -> str:
    """`route` on the service at `url` (any path on it)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{route}"
