"""Calibration windows for static int8 quantisation, from the repository's own corpus.

service/bake/calibration_corpus.json holds paragraphs written for this project, each with
questions about it. Contexts are single paragraphs (short, one window) and runs of 3, 6, 12
and 24 consecutive paragraphs (long, several overlapping windows), each asked a question from
every paragraph it holds, so the set mixes window lengths the way traffic does. The windows
are cut by the serving tokenizer (service/qa/tokenization.py: same max_seq_len, stride, padding
side and input names), one unpadded window per calibration sample.

Standard library + NumPy + tokenizers: runs in the image's builder stage.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from service.qa.tokenization import QATokenizer

CORPUS = Path(__file__).with_name("calibration_corpus.json")
RUN_LENGTHS = (3, 6, 12, 24)
# Windows handed to the quantiser; evenly spaced over all the corpus yields, so every
# context length is represented whatever the tokenizer.
DEFAULT_WINDOWS = 300


def corpus_sha256(path: Path = CORPUS) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def pairs(path: Path = CORPUS) -> Iterator[tuple[str, str]]:
    """(question, context) pairs in a fixed order."""
    paragraphs = json.loads(path.read_text(encoding="utf-8"))["paragraphs"]
    for paragraph in paragraphs:
        for question in paragraph["questions"]:
            yield question, paragraph["text"]
    for size in RUN_LENGTHS:
        for begin in range(0, len(paragraphs) - size + 1, size):
            run = paragraphs[begin : begin + size]
            context = "\n\n".join(p["text"] for p in run)
            for offset, paragraph in enumerate(run):
                questions = paragraph["questions"]
                yield questions[(begin + offset) % len(questions)], context


def windows(
    tokenizer: QATokenizer, input_names: tuple[str, ...], limit: int = DEFAULT_WINDOWS, path: Path = CORPUS
) -> list[dict[str, np.ndarray]]:
    """Up to `limit` single windows ({name: int64 [1, length]}), evenly spaced over the corpus."""
    every: list[dict[str, np.ndarray]] = []
    left = tokenizer.info.padding_side == "left"
    for question, context in pairs(path):
        cut = tokenizer.windows(question, context, input_names)
        width = cut.arrays["input_ids"].shape[1]
        for row, length in enumerate(cut.lengths.tolist()):
            cols = slice(width - length, width) if left else slice(0, length)
            every.append({name: array[row : row + 1, cols].copy() for name, array in cut.arrays.items()})
    if len(every) <= limit:
        return every
    picks = np.linspace(0, len(every) - 1, limit).round().astype(int)
    return [every[i] for i in picks]
