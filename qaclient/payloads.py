"""Request bodies for a load test or the rollout gate: a built-in example or the user's own file."""

from __future__ import annotations

import json
from pathlib import Path

DEFAULT_PAYLOAD = {
    "context": "Roses are red, violets are blue, sugar is sweet, and so are you.",
    "question": "What is sugar?",
}


class PayloadError(ValueError):
    pass


def load_payloads(path: Path | None) -> list[dict]:
    """Bodies to send, in turn (request i gets body i mod n).

    The file may hold one JSON object, a JSON array of objects, or one object per line
    (JSON Lines) — e.g. short, medium and long contexts to mix sizes in one run.
    """
    if path is None:
        return [dict(DEFAULT_PAYLOAD)]
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PayloadError(f"cannot read payload file {path}: {exc.strerror}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        try:
            data = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            raise PayloadError(f"{path}: not JSON or JSON Lines ({exc.msg}, line {exc.lineno})") from exc
    items = data if isinstance(data, list) else [data]
    if not items or not all(isinstance(item, dict) for item in items):
        raise PayloadError(f"{path}: expected a JSON object, an array of objects, or JSON Lines of objects")
    return items
