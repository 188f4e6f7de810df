"""Raw config strings (as `pulumi.Config` returns them) to typed values, collecting every
problem as one line that names the key, the value and what is valid."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import TypeVar

from infra.regions import ZONE_NAME

# Cloud Run service names: lowercase letters, digits and hyphens, a letter first, ≤ 49 chars.
# `\Z`, not `$`: `$` also matches before a trailing newline ("qa\n" would pass).
SERVICE_NAME = re.compile(r"^[a-z](?:[a-z0-9-]{0,47}[a-z0-9])?\Z")
IMAGE_REF = re.compile(r"^[a-z0-9.-]+(?::\d+)?/[a-z0-9._/-]+(?::[\w.-]+)?(?:@sha256:[0-9a-f]{64})?\Z")
MODEL_ID = re.compile(r"^[\w.-]+(?:/[\w.-]+)?\Z")
KNATIVE_VERSION = re.compile(r"^knative-v1\.(\d+)\.(\d+)\Z")
LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
DNS_LABEL = re.compile(rf"^{LABEL}\Z")
DOMAIN = re.compile(rf"^(?=.{{1,253}}\Z){LABEL}(?:\.{LABEL})+\Z")
ZONE = re.compile(rf"^{ZONE_NAME.pattern}\Z")
CIDR = re.compile(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})/(\d{1,2})\Z")

T = TypeVar("T")


class RawConfig:
    """Parses raw config strings, collecting every problem instead of stopping at the first."""

    def __init__(self, raw: Mapping[str, str]):
        self.raw = raw
        self.problems: list[str] = []
        # Keys the stack left unset and settings/derive.py filled in: a problem with one of
        # those is a consequence of another key's value, reported only when nothing else is.
        self.derived: frozenset[str] = frozenset()
        self.consequences: list[str] = []
        self.failed: set[str] = set()  # keys with a problem: cross-checks skip them

    def fail(self, key: str, value: object, valid: str) -> None:
        # As typed: Unicode stays itself (ensure_ascii=False), control characters show as \n, \t.
        shown = json.dumps(value, ensure_ascii=False, default=str)
        line = f"{key}: {shown} is not valid — {valid}"
        if key in self.derived:
            self.consequences.append(line)
        else:
            self.problems.append(line)
            self.failed.add(key)

    def all_problems(self) -> list[str]:
        return self.problems or self.consequences

    def _get(self, key: str, parse: Callable[[str], T], valid: str, fallback: T) -> T:
        if key not in self.raw:
            self.problems.append(
                f"{key}: not set — declare it in Pulumi.yaml or run `pulumi config set {key} VALUE`"
            )
            self.failed.add(key)
            return fallback
        text = self.raw[key]
        if text.strip() and text != text.strip():
            # Spaces or line breaks around a value are never part of it (a name, a size, a number);
            # the CLI passes them as typed and checks an integer or boolean without stripping them.
            self.fail(
                key, text, f"{json.dumps(text.strip(), ensure_ascii=False)}, without the space around it"
            )
            text = text.strip()
        try:
            return parse(text)
        except (ValueError, TypeError):
            self.fail(key, text, valid)
            return fallback

    def text(self, key: str) -> str:
        return self._get(key, str, "a string", "")

    def choice(self, key: str, choices: tuple[str, ...] | Mapping[str, str]) -> str:
        value = self.text(key)
        if value not in choices:
            self.fail(key, value, f"one of {', '.join(choices)}")
        return value

    def integer(self, key: str, low: int, high: int, why: str = "") -> int:
        valid = f"a whole number {low}…{high}{why}"
        value = self._get(key, parse_int, valid, low)
        if not low <= value <= high:
            self.fail(key, value, valid)
            return low
        return value

    def flag(self, key: str) -> bool:
        return self._get(key, parse_bool, "true or false", False)

    def fraction(self, key: str, high: float) -> float:
        valid = f"a number above 0 and at most {high:g}, e.g. 0.995"
        value = self._get(key, parse_decimal, valid, high)
        if not 0 < value <= high:
            self.fail(key, value, valid)
            return high
        return value

    def number(self, key: str, low: float, high: float, valid: str) -> float:
        """A decimal number low…high, written in ASCII digits (no nan, inf or exponent)."""
        value = self._get(key, parse_decimal, valid, low)
        if not low <= value <= high:
            self.fail(key, self.raw[key], valid)
            return low
        return value

    def strings(self, key: str, example: str = "") -> tuple[str, ...]:
        valid = f"a list of strings, e.g. {json.dumps([example])}" if example else "a list of strings"
        return self._get(key, parse_str_list, valid, ())


def parse_int(text: str) -> int:
    """strconv.Atoi, as the Pulumi CLI checks an integer setting: ASCII digits, an optional sign."""
    if not isinstance(text, str) or not re.fullmatch(r"[+-]?[0-9]+", text):
        raise ValueError(text)
    return int(text)


def parse_decimal(text: str) -> float:
    if isinstance(text, bool) or not re.fullmatch(r"-?\d+(?:\.\d+)?", str(text).strip(), re.ASCII):
        raise ValueError(text)
    return float(str(text).strip())


def parse_bool(text: str) -> bool:
    """`true` or `false`, exactly: the only booleans the Pulumi CLI lets a boolean setting have."""
    if text in ("true", "false"):
        return text == "true"
    raise ValueError(text)


def parse_str_list(text: str) -> tuple[str, ...]:
    value = json.loads(text) if isinstance(text, str) else text
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError(text)
    return tuple(value)


def valid_cidr(cidr: str) -> bool:
    match = CIDR.match(cidr)
    if not match:
        return False
    *octets, prefix = (int(part) for part in match.groups())
    return all(o <= 255 for o in octets) and prefix <= 32
