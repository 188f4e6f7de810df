"""Turn a raw /predict request into a checked `PredictRequest`, or a typed error saying why not.

Everything a client can get wrong is decided here, before the model sees anything, with a
message that says what to fix. Messages name fields, positions and limits, never quote the
question or context (and the request log records only the error code, not the message).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from service.errors import BodyTooLargeError, InvalidFieldError, MalformedBodyError, UnsupportedMediaTypeError
from service.qa.spans import DecodeOptions

# What a question or context must be, as a regular expression the OpenAPI document states and
# this module applies (Python `re`, as schemathesis and most Python clients read it): no NUL,
# and at least one letter, digit or underscore (`\w`, Unicode-aware), which every supported
# tokenizer keeps, so text that matches always reaches the model.
TEXT_PATTERN = r"^[^\u0000]*\w[^\u0000]*$"
_HAS_WORD = re.compile(r"\w")

REQUIRED = ("question", "context")
# Optional knobs of the 4.x pipeline, same names and defaults.
OPTIONS = ("top_k", "max_answer_len", "handle_impossible_answer", "align_to_words")
MAX_TOP_K = 20
MAX_ANSWER_LEN = 512


@dataclass(frozen=True)
class PredictRequest:
    question: str
    context: str
    options: DecodeOptions


def check_content_type(mimetype: str, charset: str | None) -> None:
    if mimetype != "application/json" and not (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    ):
        shown = mimetype or "none"
        raise UnsupportedMediaTypeError(
            f"Content-Type must be application/json (got {shown}); send a JSON object"
        )
    if charset is not None and charset.lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise UnsupportedMediaTypeError("JSON must be UTF-8 encoded; drop the charset or use utf-8")


def _reject_constant(name: str) -> None:
    raise MalformedBodyError(f"request body is not valid JSON: {name} is not a JSON number")


# Longest integer literal read as a number. Python refuses to convert 4,301+ digits (a
# ValueError deep in json); no field accepts more than a few digits anyway.
MAX_INT_DIGITS = 100


def _parse_int(literal: str) -> int:
    if len(literal.lstrip("-")) > MAX_INT_DIGITS:
        raise InvalidFieldError(
            f"a number in the request body has {len(literal.lstrip('-'))} digits; "
            f"no field accepts more than {MAX_INT_DIGITS}"
        )
    return int(literal)


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise InvalidFieldError(f"field {key!r} appears more than once; send it once")
        result[key] = value
    return result


def parse_json(raw: bytes) -> object:
    if not raw.strip():
        raise MalformedBodyError("request body is empty; send a JSON object with question and context")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedBodyError(
            f"request body is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset "
            f"{exc.start}); encode the JSON as UTF-8"
        ) from None
    try:
        return json.loads(
            text, parse_constant=_reject_constant, parse_int=_parse_int, object_pairs_hook=_no_duplicates
        )
    except json.JSONDecodeError as exc:
        raise MalformedBodyError(
            f"request body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise MalformedBodyError("request body is nested too deeply: send a flat JSON object") from None


def _text_field(body: dict, name: str) -> str:
    if name not in body:
        raise InvalidFieldError(f'missing field {name!r}: send {{"question": ..., "context": ...}}')
    value = body[name]
    if not isinstance(value, str):
        raise InvalidFieldError(f"field {name!r} must be a string, got {_json_type(value)}")
    if value == "":
        raise InvalidFieldError(f"field {name!r} is empty")
    if value.isspace():
        raise InvalidFieldError(f"field {name!r} is blank (only whitespace)")
    nul = value.find("\x00")
    if nul >= 0:
        raise InvalidFieldError(f"field {name!r} contains a NUL character (\\u0000) at index {nul}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidFieldError(
            f"field {name!r} contains an unpaired surrogate (\\u{ord(value[exc.start]):04x}) at "
            f"index {exc.start}; send valid Unicode (pair surrogates or send the character)"
        ) from None
    if _HAS_WORD.search(value) is None:
        raise InvalidFieldError(
            f"field {name!r} has no letter or digit (only punctuation, symbols or control "
            "characters): the model has nothing to read"
        )
    return value


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _int_option(body: dict, name: str, default: int, high: int) -> int:
    value = body.get(name, default)
    # JSON Schema (and so the OpenAPI document) counts 1.0 as an integer; so does the service.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidFieldError(f"field {name!r} must be an integer, got {_json_type(value)}")
    if not 1 <= value <= high:
        raise InvalidFieldError(f"field {name!r} must be from 1 to {high}, got {value}")
    return value


def _bool_option(body: dict, name: str, default: bool) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise InvalidFieldError(f"field {name!r} must be true or false, got {_json_type(value)}")
    return value


def parse_predict(raw: bytes, *, max_context_chars: int) -> PredictRequest:
    body = parse_json(raw)
    if not isinstance(body, dict):
        raise InvalidFieldError(
            f"request body must be a JSON object with question and context, got {_json_type(body)}"
        )
    unknown = sorted(set(body) - set(REQUIRED) - set(OPTIONS))
    if unknown:
        shown = ", ".join(repr(k[:40]) for k in unknown[:5])
        raise InvalidFieldError(f"unknown field(s) {shown}; allowed: {', '.join(REQUIRED + OPTIONS)}")
    question = _text_field(body, "question")
    context = _text_field(body, "context")
    if len(context) > max_context_chars:
        raise BodyTooLargeError(
            f"context is {len(context)} characters; the limit is {max_context_chars} "
            "(MAX_CONTEXT_CHARS): send a shorter context"
        )
    options = DecodeOptions(
        top_k=_int_option(body, "top_k", 1, MAX_TOP_K),
        max_answer_len=_int_option(body, "max_answer_len", 15, MAX_ANSWER_LEN),
        handle_impossible_answer=_bool_option(body, "handle_impossible_answer", False),
        align_to_words=_bool_option(body, "align_to_words", True),
    )
    return PredictRequest(question=question, context=context, options=options)
