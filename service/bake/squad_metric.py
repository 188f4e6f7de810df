"""SQuAD v1.1 exact match and F1, as the official evaluation script defines them.

The definitions follow the script SQuAD v1.1 results are reported with (`evaluate-v1.1.py`,
published with the dataset at https://rajpurkar.github.io/SQuAD-explorer/ and kept as the
`squad` metric of Hugging Face `evaluate`); rewritten here, standard library only:

- normalise an answer: lower-case, drop every ASCII punctuation character, replace the words
  a / an / the by a space, collapse whitespace;
- exact match: the normalised prediction equals a normalised gold answer (1 or 0);
- F1: over the normalised whitespace tokens, counted with multiplicity (2·P·R / (P + R), 0
  when nothing is shared);
- per question the best score over its gold answers; the totals are means × 100.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text: str) -> str:
    lowered = text.lower()
    no_punctuation = "".join(ch for ch in lowered if ch not in _PUNCTUATION)
    no_articles = _ARTICLES.sub(" ", no_punctuation)
    return " ".join(no_articles.split())


def exact_match(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def f1(prediction: str, gold: str) -> float:
    predicted = normalize_answer(prediction).split()
    expected = normalize_answer(gold).split()
    shared = sum((Counter(predicted) & Counter(expected)).values())
    if shared == 0:
        return 0.0
    precision = shared / len(predicted)
    recall = shared / len(expected)
    return 2 * precision * recall / (precision + recall)


def best_over_gold(metric, prediction: str, golds: Iterable[str]) -> float:
    return max(metric(prediction, gold) for gold in golds)


@dataclass(frozen=True)
class Score:
    """Exact match and F1 in percent (0–100) over `count` questions."""

    exact_match: float
    f1: float
    count: int

    def as_json(self) -> dict:
        return {"exact_match": round(self.exact_match, 2), "f1": round(self.f1, 2), "count": self.count}


def score(predictions: Mapping[str, str], golds: Mapping[str, Sequence[str]]) -> Score:
    """Score `predictions` (question id -> answer text) against `golds` (id -> gold answers).

    Every question of `golds` counts; one without a prediction scores 0, as in the official
    script (which also warns about it).
    """
    if not golds:
        raise ValueError("no questions to score")
    em_total = f1_total = 0.0
    for question_id, answers in golds.items():
        if not answers:
            raise ValueError(f"question {question_id!r} has no gold answer")
        prediction = predictions.get(question_id)
        if prediction is None:
            continue
        em_total += best_over_gold(exact_match, prediction, answers)
        f1_total += best_over_gold(f1, prediction, answers)
    count = len(golds)
    return Score(exact_match=100.0 * em_total / count, f1=100.0 * f1_total / count, count=count)
