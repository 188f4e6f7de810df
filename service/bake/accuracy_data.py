"""The questions the int8 accuracy gate scores: SQuAD v1.1 dev, pinned, or the project's own file.

`--accuracy-data` names the source (service/bake/bootstrap.py):

- `squad-v1.1-dev` (the default): the SQuAD v1.1 development set, downloaded at bake time from
  the URL its authors publish (https://rajpurkar.github.io/SQuAD-explorer/) and checked against
  a pinned sha256 and size (the same pair tensorflow/datasets pins in
  tensorflow_datasets/url_checksums/squad.txt). No network, another file behind the URL: the
  bake stops with one line; it never falls back on its own.
- `builtin`: service/bake/accuracy_sample.json, a small set in SQuAD v1.1 format written for
  this project (no SQuAD text). For builds without network and for tests; chosen only by
  saying so.
- a path: any local file in SQuAD v1.1 format (a mirrored copy of the dev set, or questions
  from your own domain); its sha256 is recorded.

`--accuracy-sample N` keeps N questions evenly spaced over the whole file (every article is
represented, the same N questions on every build); 0 keeps them all.

Standard library only: runs in the image's builder stage.
"""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

SQUAD_DEV = "squad-v1.1-dev"
SQUAD_DEV_URL = "https://rajpurkar.github.io/SQuAD-explorer/dataset/dev-v1.1.json"
SQUAD_DEV_SHA256 = "95aa6a52d5d6a735563366753ca50492a658031da74f301ac5238b03966972c9"
SQUAD_DEV_BYTES = 4_854_279  # documentation: the size the same sources give
BUILTIN = "builtin"
BUILTIN_FILE = Path(__file__).with_name("accuracy_sample.json")
NAMED = (SQUAD_DEV, BUILTIN)
DEFAULT_DATA = SQUAD_DEV
# Questions scored per precision. 1,000 is what the published ONNX Runtime / Optimum int8
# figures for DistilBERT-SQuAD used (docs/image.md, "int8 accuracy gate"); two models at ~50 ms
# a question is under two minutes of build time on a few vCPUs.
DEFAULT_SAMPLE = 1000
FETCH_TIMEOUT_S = 120


class AccuracyDataError(ValueError):
    """The gate's questions cannot be had; str() is one line saying what to do."""


@dataclass(frozen=True)
class Example:
    id: str
    question: str
    context: str
    answers: tuple[str, ...]


@dataclass(frozen=True)
class Sample:
    """The questions a gate scores, and where they came from (for the manifest)."""

    data: str  # squad-v1.1-dev, builtin or file
    origin: str  # the URL, or the file's name
    sha256: str
    total: int  # questions in the file
    examples: tuple[Example, ...]

    def as_json(self) -> dict:
        return {
            "data": self.data,
            "origin": self.origin,
            "sha256": self.sha256,
            "questions": len(self.examples),
            "of": self.total,
        }


def parse(raw: bytes, origin: str) -> list[Example]:
    """Every question of a SQuAD v1.1 JSON document, in file order."""
    try:
        document = json.loads(raw)
        examples = [
            Example(
                id=str(qa["id"]),
                question=str(qa["question"]),
                context=str(paragraph["context"]),
                answers=tuple(str(answer["text"]) for answer in qa["answers"]),
            )
            for article in document["data"]
            for paragraph in article["paragraphs"]
            for qa in paragraph["qas"]
        ]
    except (ValueError, KeyError, TypeError) as exc:
        raise AccuracyDataError(
            f"{origin} is not SQuAD v1.1 JSON ({type(exc).__name__}: {exc}): expected "
            '{"data": [{"paragraphs": [{"context", "qas": [{"id", "question", "answers": [{"text"}]}]}]}]}'
        ) from None
    unanswered = [e.id for e in examples if not e.answers]
    if not examples or unanswered:
        what = f"questions without answers ({', '.join(unanswered[:3])})" if unanswered else "no questions"
        raise AccuracyDataError(f"{origin} has {what}: the gate needs gold answers to score")
    return examples


def pick(examples: list[Example], size: int) -> list[Example]:
    """`size` examples evenly spaced over the list (all of them for 0 or a size at least as large)."""
    if size < 0:
        raise AccuracyDataError(
            f"--accuracy-sample {size} is not valid: a whole number ≥ 0 (0: every question)"
        )
    if size == 0 or size >= len(examples):
        return list(examples)
    if size == 1:
        return [examples[0]]
    last = len(examples) - 1
    return [examples[round(i * last / (size - 1))] for i in range(size)]


def download(
    url: str = SQUAD_DEV_URL, sha256: str = SQUAD_DEV_SHA256, timeout: float = FETCH_TIMEOUT_S
) -> bytes:
    """The bytes at `url`, refused unless their sha256 is `sha256`."""
    what = "the int8 accuracy gate needs it"
    alternatives = f"--accuracy-data {BUILTIN} (the project's small sample) or a path to a local copy"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - a pinned https URL
            raw = response.read()
    except (urllib.error.URLError, OSError) as exc:
        reason = (
            f"HTTP {exc.code} {exc.reason}"
            if isinstance(exc, urllib.error.HTTPError)
            else getattr(exc, "reason", exc)
        )
        raise AccuracyDataError(
            f"cannot download {url} ({reason}): {what}; build with network access, or pass {alternatives}"
        ) from None
    actual = hashlib.sha256(raw).hexdigest()
    if actual != sha256:
        raise AccuracyDataError(
            f"{url} has sha256 {actual[:16]}… ({len(raw)} bytes), pinned is {sha256[:16]}… "
            "(see service/bake/accuracy_data.py): not the file the gate was set up with; pass "
            f"{alternatives}"
        )
    return raw


def load(data: str = DEFAULT_DATA, size: int = DEFAULT_SAMPLE) -> Sample:
    """The questions to score, from `data` (a name in NAMED or a file path)."""
    if data == SQUAD_DEV:
        raw, kind, origin = download(SQUAD_DEV_URL, SQUAD_DEV_SHA256), SQUAD_DEV, SQUAD_DEV_URL
    elif data == BUILTIN:
        raw, kind, origin = BUILTIN_FILE.read_bytes(), BUILTIN, BUILTIN_FILE.name
    elif Path(data).is_file():
        raw, kind, origin = Path(data).read_bytes(), "file", Path(data).name
    else:
        raise AccuracyDataError(
            f"--accuracy-data {data!r} is not valid: {SQUAD_DEV} (downloaded, pinned), {BUILTIN} "
            "(the project's sample) or the path of a SQuAD v1.1 JSON file"
        )
    examples = parse(raw, origin)
    return Sample(
        data=kind,
        origin=origin,
        sha256="sha256:" + hashlib.sha256(raw).hexdigest(),
        total=len(examples),
        examples=tuple(pick(examples, size)),
    )
