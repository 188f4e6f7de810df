"""Typed errors and the ONE table that maps them to HTTP responses.

Code raises what went wrong (`InvalidFieldError("...")`); `error_response` decides the status,
the `Retry-After` header and the JSON body `{"error": "..."}`. A client input never reaches
the 500 row, and no response carries a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass

from gunicorn.http.errors import NoMoreData, ParseException
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge

from service import routes
from service.qa.model import InputTooLongError, NoContextTokensError, TooManyWindowsError


class ApiError(Exception):
    """Base of the service's own errors; str(err) is the message the client reads."""


class MalformedBodyError(ApiError):
    """Not parseable: empty, invalid UTF-8, invalid JSON, nested too deeply."""


class UnsupportedMediaTypeError(ApiError):
    """Content-Type is not JSON (or not UTF-8)."""


class BodyTooLargeError(ApiError):
    """Over MAX_BODY_BYTES, or a context over MAX_CONTEXT_CHARS."""


class InvalidFieldError(ApiError):
    """Valid JSON, wrong content: not an object, unknown/missing/empty fields, wrong types."""


class NotReadyError(ApiError):
    """The model is still loading (or failed to load)."""


class OverloadedError(ApiError):
    """Every model slot is busy and the wait queue is full, or the wait timed out."""


class DrainingError(ApiError):
    """SIGTERM: the request arrived after it, or would not finish before the drain deadline."""


@dataclass(frozen=True)
class ErrorRoute:
    status: int
    code: str  # stable, machine-readable; also what the request log records
    retry_after_s: int | None = None


# The one place where errors become statuses. Looked up along the exception's MRO.
ROUTES: dict[type[BaseException], ErrorRoute] = {
    MalformedBodyError: ErrorRoute(400, "malformed_body"),
    RecursionError: ErrorRoute(400, "malformed_body"),
    # Raised by gunicorn while the app reads the body: bad chunk framing, a body cut short.
    ParseException: ErrorRoute(400, "malformed_body"),
    NoMoreData: ErrorRoute(400, "malformed_body"),
    UnsupportedMediaTypeError: ErrorRoute(415, "unsupported_media_type"),
    BodyTooLargeError: ErrorRoute(413, "too_large"),
    RequestEntityTooLarge: ErrorRoute(413, "too_large"),
    InvalidFieldError: ErrorRoute(422, "invalid_field"),
    # Size limits the OpenAPI document cannot state in characters: 413, like the others.
    InputTooLongError: ErrorRoute(413, "question_too_long"),
    TooManyWindowsError: ErrorRoute(413, "too_many_windows"),
    NoContextTokensError: ErrorRoute(422, "empty_context"),
    NotFound: ErrorRoute(404, "not_found"),
    MethodNotAllowed: ErrorRoute(405, "method_not_allowed"),
    NotReadyError: ErrorRoute(503, "not_ready", retry_after_s=5),
    OverloadedError: ErrorRoute(503, "overloaded", retry_after_s=1),
    DrainingError: ErrorRoute(503, "draining", retry_after_s=1),
}
INTERNAL = ErrorRoute(500, "internal")

ENDPOINTS = f"POST {routes.PREDICT}, GET {routes.HEALTH}, GET {routes.READY}, GET {routes.OPENAPI}"


def route_for(exc: BaseException) -> ErrorRoute:
    for cls in type(exc).__mro__:
        if cls in ROUTES:
            return ROUTES[cls]
    if isinstance(exc, HTTPException) and exc.code is not None and exc.code < 500:
        return ErrorRoute(exc.code, "http_error")
    return INTERNAL


def body_too_large_message(max_body_bytes: int) -> str:
    return f"request body is over the limit of {max_body_bytes} bytes (MAX_BODY_BYTES)"


_FIXED_MESSAGES: dict[type[BaseException], str] = {
    RecursionError: "request body is nested too deeply: send a flat JSON object",
    ParseException: "request body is not framed correctly (chunked encoding or length)",
    NoMoreData: "request body ended before it was complete",
    NotFound: f"no such endpoint; this service has {ENDPOINTS}",
}


def _message(exc: BaseException, route: ErrorRoute, max_body_bytes: int) -> str:
    if isinstance(exc, ApiError | InputTooLongError | NoContextTokensError | TooManyWindowsError):
        return str(exc)
    for cls, text in _FIXED_MESSAGES.items():
        if isinstance(exc, cls):
            return text
    if isinstance(exc, RequestEntityTooLarge):
        return body_too_large_message(max_body_bytes)
    if isinstance(exc, MethodNotAllowed):
        allowed = ", ".join(sorted(exc.valid_methods or []))
        return f"method not allowed here; allowed: {allowed}"
    if isinstance(exc, HTTPException) and route is not INTERNAL:
        return exc.description or exc.name
    return "internal error; it has been logged"


def error_response(
    exc: BaseException, max_body_bytes: int
) -> tuple[ErrorRoute, dict[str, str], dict[str, str]]:
    """(route, JSON body, extra headers) for any exception."""
    route = route_for(exc)
    headers: dict[str, str] = {}
    if route.retry_after_s is not None:
        headers["Retry-After"] = str(route.retry_after_s)
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        headers["Allow"] = ", ".join(sorted(exc.valid_methods))
    return route, {"error": _message(exc, route, max_body_bytes)}, headers
