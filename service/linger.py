"""Lingering close: read what is left of a request body the app did not read, after answering.

A client that sends its whole body before it reads (Python's http.client, many SDKs) never sees
a 413 if the server closes with body bytes unread: the kernel answers those bytes with a reset,
the client's send fails with a broken pipe, and the response is lost. gunicorn drains only a
little before closing. Like nginx's lingering close, the worker reads and discards the rest,
bounded in bytes and in time, once the response is on the wire (gunicorn's post_request hook);
then gunicorn keeps or closes the connection as usual.
"""

from __future__ import annotations

import contextlib
import socket
import time
from typing import Protocol

# Cloud Run refuses HTTP/1 requests over 32 MiB at its front end, so a body this large never
# reaches an instance there; a bigger one (elsewhere) is cut off, as nginx does.
MAX_BYTES = 32 * 1024 * 1024
MAX_SECONDS = 5.0  # the whole drain: a client trickling its body cannot hold a thread longer
_CHUNK = 64 * 1024


class Body(Protocol):
    def read(self, size: int) -> bytes: ...


def drain(
    body: Body, sock: socket.socket | None, max_bytes: int = MAX_BYTES, max_s: float = MAX_SECONDS
) -> int:
    """Read and discard `body` until it ends, `max_bytes` are read or `max_s` pass; bytes read."""
    deadline = time.monotonic() + max_s
    prior = sock.gettimeout() if sock is not None else None
    total = 0
    try:
        while total < max_bytes:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if sock is not None:
                sock.settimeout(left)
            chunk = body.read(min(_CHUNK, max_bytes - total))
            if not chunk:
                break
            total += len(chunk)
    except (OSError, ValueError):  # timeout, reset, or a malformed rest: gunicorn closes then
        pass
    finally:
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.settimeout(prior)
    return total


def after_request(req, environ: dict) -> None:
    """gunicorn post_request: drain a body the app left unread (refused, or never needed)."""
    body = getattr(req, "body", None)
    if body is not None:
        drain(body, environ.get("gunicorn.socket"))
