"""One-line JSON logs (Cloud Logging reads `severity` and `message`), never request bodies.

Extra fields come from `logger.info("...", extra={...})`. Gunicorn's own loggers use the
same formatter (service/gunicorn.conf.py), so every line on stdout/stderr is one JSON object.
"""

from __future__ import annotations

import json
import logging
import traceback
from datetime import UTC, datetime

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
_SEVERITY = {"WARNING": "WARNING", "WARN": "WARNING", "FATAL": "CRITICAL"}


class JsonFormatter(logging.Formatter):
    """`{"severity", "message", "time", "logger", ...extra, "stack_trace"?}` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "severity": _SEVERITY.get(record.levelname, record.levelname),
            "message": record.getMessage(),
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "logger": record.name,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["stack_trace"] = "".join(traceback.format_exception(*record.exc_info))
        return json.dumps(payload, default=str, ensure_ascii=False)
