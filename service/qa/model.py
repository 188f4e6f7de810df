"""Extractive question answering: tokenizer windows -> backend forward passes -> best span.

`QAModel.load(model_dir, ...)` is what the service runs; tests build one from a generated
tiny checkpoint. Framework-free itself: the backend the directory's manifest names
(service/bake/manifest.py: onnx, openvino or torch) is imported on load.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from service.bake import manifest as manifests
from service.qa.backends import Backend, load_backend
from service.qa.spans import Answer, DecodeOptions, best_answers
from service.qa.tokenization import QATokenizer, Windows, uses_token_type_ids

WARMUP_QUESTION = "What is this?"
WARMUP_CONTEXT = "This is a short warm-up context for the question answering model."


class InputTooLongError(ValueError):
    """A field is over a token limit; the message says which and by how much."""


class TooManyWindowsError(ValueError):
    """The context needs more windows than one request may run (MAX_WINDOWS)."""


class NoContextTokensError(ValueError):
    """The context holds nothing the tokenizer keeps (e.g. only control characters)."""


@dataclass(frozen=True)
class Prepared:
    """One request, tokenized: what the forward pass and the decoding need."""

    context: str
    windows: Windows
    question_tokens: int
    tokenize_ms: float


@dataclass
class Prediction:
    answers: list[Answer]
    windows: int
    tokens: int
    question_tokens: int
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def best(self) -> Answer:
        return self.answers[0]


class QAModel:
    def __init__(
        self,
        tokenizer: QATokenizer,
        backend: Backend,
        *,
        use_token_type_ids: bool,
        max_question_tokens: int = 64,
        max_batch_windows: int = 2,
        max_windows: int | None = None,
    ) -> None:
        if max_question_tokens > tokenizer.max_question_tokens:
            raise ValueError(
                f"MAX_QUESTION_TOKENS={max_question_tokens} is too large for this model: at "
                f"most {tokenizer.max_question_tokens} fit a {tokenizer.max_seq_len}-token "
                f"window with stride {tokenizer.doc_stride}"
            )
        self.tokenizer = tokenizer
        self.backend = backend
        self.max_question_tokens = max_question_tokens
        self.max_batch_windows = max_batch_windows
        self.max_windows = max_windows  # None: no cap (tests, benchmarks of the model alone)
        names = [n for n in backend.input_names if n != "token_type_ids" or use_token_type_ids]
        self.input_names = tuple(names)

    @classmethod
    def load(
        cls,
        model_dir: Path,
        *,
        num_threads: int = 1,
        max_question_tokens: int = 64,
        max_batch_windows: int = 2,
        max_windows: int | None = None,
        backend: str | None = None,
        device: str = "auto",
        allow_spinning: bool = True,
        cache_dir: Path | None = None,
    ) -> QAModel:
        """Load `model_dir` with the backend its manifest names (`backend` overrides it)."""
        model_dir = Path(model_dir)
        manifest = manifests.describe(model_dir)
        name = backend or manifest.runtime
        # The tokenizer (two parses of tokenizer.json) loads on a helper thread while the
        # backend loads here, on the calling (inference) thread: ONNX Runtime builds its
        # session without holding the GIL, so the two overlap (start-up).
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tokenizer") as pool:
            pending = pool.submit(QATokenizer, model_dir)
            try:
                runner = load_backend(
                    name,
                    model_dir,
                    num_threads,
                    model_file=manifest.model_file if name == manifest.runtime else None,
                    precision=manifest.precision,
                    device=device,
                    allow_spinning=allow_spinning,
                    cache_dir=cache_dir,
                )
            finally:
                tokenizer = pending.result()
        if manifest.max_seq_len is not None and manifest.max_seq_len != tokenizer.max_seq_len:
            raise manifests.ManifestError(
                f"{manifests.MANIFEST_FILE} says max_seq_len {manifest.max_seq_len}, the tokenizer "
                f"gives {tokenizer.max_seq_len}: rebuild the directory"
            )
        return cls(
            tokenizer,
            runner,
            use_token_type_ids=uses_token_type_ids(model_dir, tokenizer, runner.input_names),
            max_question_tokens=max_question_tokens,
            max_batch_windows=max_batch_windows,
            max_windows=max_windows,
        )

    def warm_up(self) -> Prediction:
        return self.predict(WARMUP_QUESTION, WARMUP_CONTEXT)

    def predict(self, question: str, context: str, options: DecodeOptions | None = None) -> Prediction:
        prepared = self.prepare(question, context)
        t0 = time.perf_counter()
        starts, ends = self.forward(prepared.windows.arrays)
        inference_ms = (time.perf_counter() - t0) * 1000
        return self.decode(prepared, starts, ends, options, {"inference": inference_ms})

    def prepare(self, question: str, context: str) -> Prepared:
        """Check and tokenize one request into its padded windows (no model call)."""
        t0 = time.perf_counter()
        question_tokens = self.tokenizer.count_tokens(question)
        if question_tokens > self.max_question_tokens:
            raise InputTooLongError(
                f"question is {question_tokens} tokens long; the limit is "
                f"{self.max_question_tokens} tokens (shorten the question)"
            )
        windows = self.tokenizer.windows(question, context, self.input_names)
        if self.max_windows is not None and windows.count > self.max_windows:
            # Checked before any forward pass: the cap bounds a request's work, whatever script
            # its characters are in (CJK text needs about 4x the windows of English).
            raise TooManyWindowsError(
                f"context needs {windows.count} windows of {self.tokenizer.max_seq_len} tokens; the "
                f"limit is {self.max_windows} windows per request (MAX_WINDOWS): send a shorter context"
            )
        if not _has_context(windows):
            raise NoContextTokensError("context contains no text the model can read")
        return Prepared(context, windows, question_tokens, (time.perf_counter() - t0) * 1000)

    def decode(
        self,
        prepared: Prepared,
        starts: np.ndarray,
        ends: np.ndarray,
        options: DecodeOptions | None = None,
        timings_ms: dict[str, float] | None = None,
    ) -> Prediction:
        """Best answers from the logits of `prepared`'s windows ([windows, its own width])."""
        options = options or DecodeOptions()
        t0 = time.perf_counter()
        windows = prepared.windows
        width = windows.arrays["input_ids"].shape[1]
        left = self.tokenizer.info.padding_side == "left"
        rows = []
        for row, length in enumerate(windows.lengths.tolist()):
            cols = slice(width - length, width) if left else slice(0, length)
            desired = (1 - windows.p_mask[row, cols]) & windows.arrays["attention_mask"][row, cols]
            rows.append((starts[row, cols], ends[row, cols], desired))
        answers = best_answers(
            prepared.context,
            encodings=windows.encodings,
            start_logits=[r[0] for r in rows],
            end_logits=[r[1] for r in rows],
            desired=[r[2] for r in rows],
            question_first=windows.question_first,
            options=options,
        )
        return Prediction(
            answers=answers,
            windows=windows.count,
            tokens=windows.tokens,
            question_tokens=prepared.question_tokens,
            timings_ms={
                "tokenize": prepared.tokenize_ms,
                **(timings_ms or {}),
                "decode": (time.perf_counter() - t0) * 1000,
            },
        )

    def forward(self, arrays: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """All windows as one padded batch, split only past max_batch_windows (memory)."""
        total = arrays["input_ids"].shape[0]
        if total <= self.max_batch_windows:
            return self.backend(arrays)
        starts, ends = [], []
        for begin in range(0, total, self.max_batch_windows):
            chunk = {k: v[begin : begin + self.max_batch_windows] for k, v in arrays.items()}
            start, end = self.backend(chunk)
            starts.append(start)
            ends.append(end)
        return np.concatenate(starts), np.concatenate(ends)


def _has_context(windows: Windows) -> bool:
    """At least one context token in the first window (the tokenizer may drop everything)."""
    enc = windows.encodings[0]
    wanted = 1 if windows.question_first else 0
    return any(s == wanted for s in enc.sequence_ids)
