"""Best answer spans from start/end logits, in NumPy, as the transformers 4.x pipeline chose them.

Users move from `pipeline("question-answering")` (removed in transformers 5), so the span
choice reproduces transformers 4.57's `select_starts_ends` / `decode_spans` / `postprocess`
step for step, quirks included, because each one changes which answer wins:

* per window: logits of non-context tokens (question, specials, padding) set to -10000, a
  softmax over the window, then the first token's probability zeroed (the CLS, which stays in
  the softmax's denominator);
* span score = p_start * p_end over start <= end < start + max_answer_len, top
  `2 * top_k + 10` candidates when aligning to words (some collapse into the same words);
* spans touching a masked token are dropped; char offsets come from the word the start/end
  token belongs to (`align_to_words`), falling back to token offsets;
* candidates whose text is equal (case-insensitively) to an earlier one are merged and their
  scores *added* - across windows too, so an answer seen in two overlapping windows scores the
  sum; the first occurrence's offsets are kept;
* the best `top_k` by score, ties in first-seen order; unlike 4.x, never an inverted or empty
  span (`start >= end`): those are dropped, so fewer than `top_k` answers may come back.

Offsets are Unicode code points of the context (Python `str` indices), not UTF-16 units.

Scores are float32 arithmetic, like the pipeline's; tests compare against its outputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from tokenizers import Encoding

MASKED_LOGIT = -10000.0


@dataclass
class Answer:
    answer: str
    score: float
    start: int
    end: int

    def as_dict(self) -> dict[str, object]:
        return {"answer": self.answer, "score": self.score, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class DecodeOptions:
    top_k: int = 1
    max_answer_len: int = 15
    handle_impossible_answer: bool = False
    align_to_words: bool = True


def window_probabilities(
    start_logits: np.ndarray, end_logits: np.ndarray, desired: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float]:
    """Masked softmax of one window; returns (p_start, p_end, null score) with CLS zeroed."""
    undesired = desired == 0
    start = np.where(undesired, np.float32(MASKED_LOGIT), start_logits.astype(np.float32))
    end = np.where(undesired, np.float32(MASKED_LOGIT), end_logits.astype(np.float32))
    start = np.exp(start - start.max())
    start = start / start.sum()
    end = np.exp(end - end.max())
    end = end / end.sum()
    null_score = float(start[0] * end[0])
    start[0] = end[0] = 0.0
    return start, end, null_score


def top_spans(
    p_start: np.ndarray, p_end: np.ndarray, desired: np.ndarray, top_k: int, max_answer_len: int
) -> list[tuple[int, int, float]]:
    """The `top_k` best (start, end, score) spans of one window, best first."""
    outer = np.outer(p_start, p_end)
    candidates = np.tril(np.triu(outer), max_answer_len - 1)
    flat = candidates.ravel()
    if top_k == 1:
        order = np.array([np.argmax(flat)])
    elif flat.size < top_k:
        order = np.argsort(-flat)
    else:
        best = np.argpartition(-flat, top_k)[:top_k]
        order = best[np.argsort(-flat[best])]
    starts, ends = np.unravel_index(order, candidates.shape)
    # 4.x tests membership in `desired.nonzero()` of a [1, n] array, i.e. in the union of
    # the row indices (all 0) and the desired columns: index 0 passes whenever any does.
    allowed = desired.astype(bool)
    if allowed.any():
        allowed[0] = True
    keep = allowed[starts] & allowed[ends]
    return [(int(s), int(e), float(candidates[s, e])) for s, e in zip(starts[keep], ends[keep], strict=True)]


def char_span(
    enc: Encoding, start: int, end: int, sequence_index: int, align_to_words: bool
) -> tuple[int, int]:
    """Character offsets in the context of tokens start..end of one window."""
    if align_to_words:
        try:
            start_word = enc.token_to_word(start)
            end_word = enc.token_to_word(end)
            return (
                enc.word_to_chars(start_word, sequence_index)[0],
                enc.word_to_chars(end_word, sequence_index)[1],
            )
        except Exception:  # as 4.x: e.g. a special token has no word -> token offsets
            return enc.offsets[start][0], enc.offsets[end][1]
    return enc.offsets[start][0], enc.offsets[end][1]


def best_answers(
    context: str,
    *,
    encodings: list[Encoding],
    start_logits: list[np.ndarray],
    end_logits: list[np.ndarray],
    desired: list[np.ndarray],
    question_first: bool,
    options: DecodeOptions,
) -> list[Answer]:
    """Answers over all windows (unpadded per-window arrays), best first, at most top_k."""
    candidates_per_window = options.top_k * 2 + 10 if options.align_to_words else options.top_k
    sequence_index = 1 if question_first else 0
    answers: list[Answer] = []
    by_text: dict[str, Answer] = {}
    min_null_score = 1_000_000.0
    for enc, start, end, ok in zip(encodings, start_logits, end_logits, desired, strict=True):
        p_start, p_end, null_score = window_probabilities(start, end, ok)
        min_null_score = min(min_null_score, null_score)
        for s, e, score in top_spans(p_start, p_end, ok, candidates_per_window, options.max_answer_len):
            char_start, char_end = char_span(enc, s, e, sequence_index, options.align_to_words)
            if char_end <= char_start:
                # With fewer real spans than top_k, the top-k search also returns zero-score
                # cells below the diagonal (start token after end token): 4.x returned them as
                # inverted or empty answers; they are dropped, so top_k may give fewer answers.
                continue
            text = context[char_start:char_end]
            seen = by_text.get(text.lower())
            if seen is not None:
                seen.score += score
            else:
                answer = Answer(text, score, char_start, char_end)
                by_text[text.lower()] = answer
                answers.append(answer)
    if options.handle_impossible_answer:
        answers.append(Answer("", min_null_score, 0, 0))
    return sorted(answers, key=lambda a: a.score, reverse=True)[: options.top_k]
