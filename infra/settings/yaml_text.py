"""A YAML value as the Pulumi CLI turns it into config text.

The CLI (pulumi/pulumi, sdk/go/common) reads stack and project files with go-yaml v2 and
decodes each config value into a typed object first (`config.object.UnmarshalYAML`), then writes
it back as text (`object.MarshalString`): strings stay as typed, booleans and numbers become
their JSON text, lists and maps become JSON. go-yaml v2 resolves plain scalars by YAML 1.1 rules,
but not the same ones as PyYAML: `y`/`n` are booleans, `1:00` (sexagesimal) is a string, `010` is
octal 8, `1_000` is 1000. Quoted and block scalars are always strings. Parsing (the syntax) is
PyYAML's: both are ports of libyaml. Only resolution and text output are reimplemented here.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from typing import Any

# go-yaml v2 resolve.go: resolveMapList (checked 2026-12).
_BOOLS = {
    **dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), True),
    **dict.fromkeys(("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), False),
}
_NULLS = ("", "~", "null", "Null", "NULL")
_SPECIAL_FLOATS = {
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
}
# What go-yaml looks up before trying numbers (any scalar whose first character hints at one).
_WORDS: dict[str, Any] = {}
_YAML_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_INT64 = (-(2**63), 2**63 - 1)
_UINT64_MAX = 2**64 - 1
_GO_PREFIX_BASES = {"0x": 16, "0o": 8, "0b": 2}


class Null:
    """A YAML null (empty value, `~`, `null`): kept apart from every real value."""

    def __repr__(self) -> str:
        return "Null"


NULL = Null()
_WORDS.update({**_BOOLS, **dict.fromkeys(_NULLS, NULL), **_SPECIAL_FLOATS})


def _go_parse_int(text: str) -> int | None:
    """strconv.ParseInt(text, 0, 64), then ParseUint: sign, 0x/0o/0b prefixes, leading 0 octal."""
    signed = text[:1] in ("+", "-")
    body = text[1:] if signed else text
    base, digits = 10, body
    if body[:2].lower() in _GO_PREFIX_BASES:
        base, digits = _GO_PREFIX_BASES[body[:2].lower()], body[2:]
    elif len(body) > 1 and body[0] == "0":
        base = 8
    if not digits or not (digits.isascii() and digits.isalnum()):
        return None
    try:
        value = int(digits, base)
    except ValueError:
        return None
    if text[:1] == "-":
        value = -value
    high = _INT64[1] if signed else _UINT64_MAX
    return value if _INT64[0] <= value <= high else None


def resolve_plain(text: str) -> Any:
    """A plain (unquoted) scalar as go-yaml v2 decodes it into `interface{}`."""
    if text in _WORDS:
        return _WORDS[text]
    number: int | float | None = None
    if text[0] in "+-0123456789":
        # Timestamps (2026-12-01) stay text: go-yaml v2 keeps them as strings in interface{}.
        plain = text.replace("_", "")
        number = _go_parse_int(plain)
        if number is None and _YAML_FLOAT.match(plain):
            number = float(plain)
    elif text[0] == "." and _YAML_FLOAT.match(text):
        number = float(text)
    return text if number is None else number


def go_float_json(value: float) -> str:
    """encoding/json's text for a float64: shortest digits, exponent form below 1e-6 or from 1e21."""
    exact = Decimal(repr(value)).normalize()
    magnitude = abs(value)
    if magnitude == 0 or 1e-6 <= magnitude < 1e21:
        return format(exact, "f")
    sign, digit_tuple, exponent = exact.as_tuple()
    digits = "".join(map(str, digit_tuple))
    power = exponent + len(digits) - 1
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    text = f"{'-' if sign else ''}{mantissa}e{'-' if power < 0 else '+'}{abs(power):02d}"
    return re.sub(r"e-0(\d)$", r"e-\1", text)


def go_json(value: Any) -> str:
    """encoding/json.Marshal: compact, map keys sorted, <>& and U+2028/9 escaped, UTF-8 kept."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"json: unsupported value: {value}")
        return go_float_json(value)
    if value is NULL:
        return "null"
    if isinstance(value, list):
        return "[" + ",".join(go_json(v) for v in value) + "]"
    if isinstance(value, dict):
        items = (f"{go_json(str(k))}:{go_json(v)}" for k, v in sorted(value.items()))
        return "{" + ",".join(items) + "}"
    text = json.dumps(value, ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def config_text(value: Any) -> str:
    """object.MarshalString: a string as itself, anything else as its JSON text."""
    if isinstance(value, str):
        return value
    return go_json(value)


def go_format_v(value: Any) -> str:
    """fmt.Sprintf("%v") of a primitive: how the CLI turns a Pulumi.yaml `default:` into text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _go_format_g(value)
    if value is NULL:
        return "<nil>"
    return str(value)


def _go_format_g(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    exact = Decimal(repr(value)).normalize()
    sign, digit_tuple, exponent = exact.as_tuple()
    digits = "".join(map(str, digit_tuple))
    power = exponent + len(digits) - 1
    if value == 0 or -4 <= power < 6:  # strconv 'g' with the shortest precision uses 6 here
        return format(exact, "f")
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{'-' if sign else ''}{mantissa}e{'-' if power < 0 else '+'}{abs(power):02d}"
