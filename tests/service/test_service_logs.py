"""JSON log lines: one object per line, Cloud Logging's severity/message, extras, stack traces."""

from __future__ import annotations

import io
import json
import logging

from service.logs import JsonFormatter


def capture(level, message, *args, **kwargs) -> dict:
    stream = io.StringIO()
    logger = logging.getLogger("test.service.logs")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())  # as service/gunicorn.conf.py's logconfig_dict sets it up
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.log(level, message, *args, **kwargs)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    return json.loads(lines[0])


def test_severity_message_and_extras():
    record = capture(logging.WARNING, "slow %s", "request", extra={"latency_ms": 12.5, "path": "/predict"})
    assert record["severity"] == "WARNING"
    assert record["message"] == "slow request"
    assert record["latency_ms"] == 12.5
    assert record["path"] == "/predict"
    assert record["logger"] == "test.service.logs"
    assert record["time"].endswith("+00:00")


def test_multiline_text_and_exceptions_stay_on_one_line():
    try:
        raise ValueError("bad\nthing")
    except ValueError:
        record = capture(logging.ERROR, "line one\nline two", exc_info=True)
    assert record["message"] == "line one\nline two"
    assert record["severity"] == "ERROR"
    assert "ValueError: bad" in record["stack_trace"]


def test_unserialisable_extras_do_not_break_logging():
    record = capture(logging.INFO, "x", extra={"obj": object()})
    assert record["obj"].startswith("<object object")


def test_formatter_is_usable_from_logging_config():
    assert isinstance(logging.Formatter(), logging.Formatter)
    assert (
        JsonFormatter()
        .format(logging.LogRecord("n", logging.CRITICAL, "", 0, "m", None, None))
        .startswith('{"severity": "CRITICAL"')
    )
