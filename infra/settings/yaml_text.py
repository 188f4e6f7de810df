"""How the Pulumi CLI turns a YAML value into config text, for the two readings it has had.

Sources (pulumi/pulumi at 1b59498, 2026-08; go-yaml v3.0.1 at f6f7691):
- The CLI parses stack and project files with go-yaml v3 (sdk/go/common/encoding/marshal.go:27,
  since v3.50.0; v2 before).
- v3.88.0 and later: `config.Value.UnmarshalYAML` (sdk/go/common/resource/config/value.go:238)
  decodes into `any` (object.go:455), so a plain scalar is resolved first (go-yaml resolve.go), then
  written back by `object.MarshalString` (object.go:403): strings as they are, booleans and numbers
  as their JSON text. `010` arrives as "8", `1e3` as "1000", `True` as "true".
- Before v3.88.0 (commit 6756c12 changed it): value.go's `unmarshalValue` first decoded into a
  Go string, and go-yaml sets a string to the scalar's literal text (decode.go:616
  `out.SetString(n.Value)`): `010` arrived as "010".
Lists and maps are decoded into `any` by both and stored as JSON (encoding/json).

The reader passes every scalar as its literal text and refuses a plain scalar whose two readings
differ (`quote it`), so what it reads is what every CLI passes. Quoting changes nothing for a
scalar whose readings agree.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from typing import Any


class Null:
    """A YAML null (empty value, `~`, `null`): kept apart from every real value."""

    def __repr__(self) -> str:
        return "Null"


NULL = Null()
# go-yaml v3 resolve.go, resolveMapList: the only words it resolves (no yes/no/on/off, no y/n).
_WORDS: dict[str, Any] = {
    **dict.fromkeys(("true", "True", "TRUE"), True),
    **dict.fromkeys(("false", "False", "FALSE"), False),
    **dict.fromkeys(("", "~", "null", "Null", "NULL"), NULL),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
}
_YAML_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
# resolve.go parseTimestamp: YYYY- then a date, optionally a time (read as a time.Time).
_TIMESTAMP = re.compile(
    r"^\d{4}-\d{1,2}-\d{1,2}(?:[Tt ]\d{1,2}:\d{1,2}:\d{1,2}(?:\.\d*)?\s*(?:Z|[-+]\d\d(?::?\d\d)?)?)?$"
)
_BASES = {"0x": 16, "0o": 8, "0b": 2}


class UnreadableError(ValueError):
    """A value the CLI refuses (a NaN or infinity cannot be JSON) or turns into other text."""


def _go_parse_int(text: str) -> int | None:
    """strconv.ParseInt(text, 0, 64), then ParseUint: sign, 0x/0o/0b, and a leading 0 is octal."""
    signed = text[:1] in ("+", "-")
    body = text[1:] if signed else text
    base, digits = 10, body
    if body[:2].lower() in _BASES:
        base, digits = _BASES[body[:2].lower()], body[2:]
    elif len(body) > 1 and body[0] == "0":
        base = 8
    if not digits or not (digits.isascii() and digits.isalnum()):
        return None
    try:
        value = int(digits, base) * (-1 if text[0] == "-" else 1)
    except ValueError:
        return None
    high = 2**63 - 1 if signed else 2**64 - 1
    return value if -(2**63) <= value <= high else None


def resolve_plain(text: str) -> Any:
    """A plain (unquoted) scalar as go-yaml v3 decodes it into `any`."""
    if text in _WORDS:
        return _WORDS[text]
    if _TIMESTAMP.match(text):
        raise UnreadableError("reads as a timestamp")
    if text[0] in "+-0123456789" or (text[0] == "." and _YAML_FLOAT.match(text)):
        plain = text.replace("_", "")
        if (number := _go_parse_int(plain)) is not None:
            return number
        if _YAML_FLOAT.match(plain) and math.isfinite(value := float(plain)):
            return value
    return text


def _go_float(value: float) -> str:
    """encoding/json's text for a float64: shortest digits, exponent form below 1e-6 or from 1e21."""
    exact = Decimal(repr(value)).normalize()
    if value == 0 or 1e-6 <= abs(value) < 1e21:
        return format(exact, "f")
    sign, digit_tuple, exponent = exact.as_tuple()
    digits = "".join(map(str, digit_tuple))
    power = exponent + len(digits) - 1  # type: ignore[operator]
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    # strconv's 'e' format pads the exponent to two digits; encoding/json then cleans up e-09 to
    # e-9 (negative exponents only: 1e+21 stays as it is).
    exponent_text = f"-{abs(power)}" if power < 0 else f"+{power:02d}"
    return f"{'-' if sign else ''}{mantissa}e{exponent_text}"


def go_json(value: Any) -> str:
    """encoding/json.Marshal: compact, map keys sorted, <>& and U+2028/9 escaped, UTF-8 kept."""
    if isinstance(value, float):
        if not math.isfinite(value):
            shown = "NaN" if math.isnan(value) else "+Inf" if value > 0 else "-Inf"
            raise UnreadableError(
                f"{shown} cannot be JSON (json: unsupported value; the CLI refuses the file)"
            )
        return _go_float(value)
    if value is NULL:
        return "null"
    if isinstance(value, list):
        return "[" + ",".join(go_json(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{go_json(k)}:{go_json(v)}" for k, v in sorted(value.items())) + "}"
    text = json.dumps(value, ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def key_text(value: Any) -> str:
    """A map key as `fmt.Sprintf("%v")` prints it (value.go's interfaceMapToStringMap)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "<nil>" if value is NULL else value if isinstance(value, str) else go_json(value)
