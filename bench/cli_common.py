"""Pieces every `python -m bench` subcommand shares: the parser class, argument types, errors."""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from typing import NoReturn


class CliError(Exception):
    """A user mistake: printed as one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line that names the command and the problem; `-h` still prints the full usage.
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} -h)\n")


def seconds(text: str) -> float:
    """'20', '20s', '1.5m' → seconds."""
    raw = text.strip().lower()
    scale = 60.0 if raw.endswith("m") else 1.0
    try:
        value = float(raw.removesuffix("m").removesuffix("s")) * scale
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 20, 20s, 1.5m)") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0: {text!r}")
    return value


def _number(text: str, kind: type, minimum: float, strict: bool) -> float:
    try:
        value = kind(text)
    except ValueError:
        what = "whole number" if kind is int else "number"
        raise argparse.ArgumentTypeError(f"not a {what}: {text!r}") from None
    if math.isnan(value) or (value <= minimum if strict else value < minimum):
        raise argparse.ArgumentTypeError(f"must be {'>' if strict else '≥'} {minimum:g}: {text!r}")
    return value


def positive_float(text: str) -> float:
    return _number(text, float, 0, strict=True)


def non_negative_float(text: str) -> float:
    return _number(text, float, 0, strict=False)


def positive_int(text: str) -> int:
    return int(_number(text, int, 1, strict=False))


def parse_env(pairs: Sequence[str]) -> dict[str, str]:
    """`--env KEY=VALUE` options → a dict."""
    env = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CliError(f"--env {pair!r}: expected KEY=VALUE")
        env[key] = value
    return env
