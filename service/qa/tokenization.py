"""Fast tokenizer + sliding windows, with the `tokenizers` library only.

No torch or transformers import here (nor in service/qa/spans.py): an ONNX Runtime backend must
be able to serve without either. The windowing reproduces what the transformers 4.x
question-answering pipeline asked its fast tokenizer for: `tokenizer(question, context,
truncation="only_second", max_length=384, stride=128, return_overflowing_tokens=True,
return_offsets_mapping=True)`, one feature per window, no padding. `stack_windows` /
`split_rows` put several requests' windows into one padded batch and back (service/batching.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tokenizers import Encoding, Tokenizer

# The 4.x pipeline's defaults.
DEFAULT_MAX_SEQ_LEN = 384
DEFAULT_DOC_STRIDE = 128
# transformers writes int(1e30) when a tokenizer has no length limit.
_NO_LIMIT = 10**18


class TokenizerConfigError(ValueError):
    """The model directory's tokenizer cannot be used for extractive QA."""


@dataclass(frozen=True)
class TokenizerInfo:
    """What tokenizer_config.json (+ special_tokens_map.json) says, with transformers' defaults."""

    padding_side: str = "right"
    model_max_length: int | None = None
    cls_token: str | None = None
    pad_token: str | None = None
    model_input_names: tuple[str, ...] | None = None

    @classmethod
    def read(cls, model_dir: Path) -> TokenizerInfo:
        config = _read_json(model_dir / "tokenizer_config.json")
        specials = _read_json(model_dir / "special_tokens_map.json")
        names = config.get("model_input_names")
        max_len = config.get("model_max_length")
        padding_side = config.get("padding_side", "right")
        if padding_side not in ("left", "right"):
            raise TokenizerConfigError(f"tokenizer padding_side {padding_side!r} is not left/right")
        return cls(
            padding_side=padding_side,
            model_max_length=int(max_len) if isinstance(max_len, int | float) else None,
            cls_token=_token_text(config.get("cls_token")) or _token_text(specials.get("cls_token")),
            pad_token=_token_text(config.get("pad_token")) or _token_text(specials.get("pad_token")),
            model_input_names=tuple(names) if isinstance(names, list) else None,
        )


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise TokenizerConfigError(f"cannot read {path.name}: {exc}") from exc
    return data if isinstance(data, dict) else {}


def _token_text(value: object) -> str | None:
    # Special tokens are saved either as "[CLS]" or as {"content": "[CLS]", ...}.
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("content"), str):
        return value["content"]
    return None


@dataclass(frozen=True)
class Padding:
    """How windows of different widths are stacked: the tokenizer's side and pad value per input."""

    side: str = "right"  # "left" or "right"
    values: dict[str, int] = field(default_factory=lambda: {"input_ids": 0})

    def value(self, name: str) -> int:
        return self.values.get(name, 0)  # attention_mask / token_type_ids pad with 0


@dataclass(frozen=True)
class Windows:
    """The windows of one (question, context) pair, ready for a backend."""

    encodings: list[Encoding]  # unpadded, one per window; used to map tokens back to chars
    arrays: dict[str, np.ndarray]  # padded int64 [n_windows, max_len] model inputs
    p_mask: np.ndarray  # [n_windows, max_len] 1 = cannot be part of an answer (as in 4.x)
    lengths: np.ndarray  # [n_windows] real (unpadded) length of each window
    question_first: bool

    @property
    def count(self) -> int:
        return len(self.encodings)

    @property
    def tokens(self) -> int:
        return int(self.lengths.sum())


class QATokenizer:
    """Turns (question, context) into padded windows and knows the tokenizer's conventions."""

    def __init__(
        self,
        model_dir: Path,
        *,
        max_seq_len: int | None = None,
        doc_stride: int | None = None,
    ) -> None:
        path = Path(model_dir) / "tokenizer.json"
        if not path.is_file():
            raise TokenizerConfigError(
                f"{path} not found: the service needs a fast tokenizer (tokenizer.json)"
            )
        self.info = TokenizerInfo.read(Path(model_dir))
        # Two instances: counting question tokens must not be truncated, windows must be.
        self._counter = Tokenizer.from_file(str(path))
        self._counter.no_truncation()
        self._counter.no_padding()
        self._windower = Tokenizer.from_file(str(path))
        self._windower.no_padding()

        model_max = self.info.model_max_length
        if model_max is None or model_max >= _NO_LIMIT:
            model_max = DEFAULT_MAX_SEQ_LEN
        # Same derivation as the 4.x pipeline.
        self.max_seq_len = max_seq_len or min(model_max, DEFAULT_MAX_SEQ_LEN)
        self.doc_stride = doc_stride or min(self.max_seq_len // 2, DEFAULT_DOC_STRIDE)
        self.question_first = self.info.padding_side == "right"
        self.special_tokens = self._windower.num_special_tokens_to_add(is_pair=True)
        if self.doc_stride >= self.max_seq_len - self.special_tokens:
            raise TokenizerConfigError(
                f"doc_stride {self.doc_stride} leaves no room in max_seq_len {self.max_seq_len}"
            )
        self._windower.enable_truncation(
            self.max_seq_len,
            stride=self.doc_stride,
            strategy="only_second" if self.question_first else "only_first",
            direction="right",
        )
        self.cls_token_id = self._token_id(self.info.cls_token)
        self.pad_token_id = self._token_id(self.info.pad_token) or 0

    @property
    def padding(self) -> Padding:
        return Padding(self.info.padding_side, {"input_ids": self.pad_token_id})

    def _token_id(self, token: str | None) -> int | None:
        return self._counter.token_to_id(token) if token else None

    @property
    def max_question_tokens(self) -> int:
        """Longest question that still leaves each window room for the stride.

        Past this the tokenizers library panics (PanicException, not an Exception) instead
        of raising, so the service refuses such questions before tokenizing the pair.
        """
        return self.max_seq_len - self.special_tokens - self.doc_stride - 1

    def count_tokens(self, text: str) -> int:
        return len(self._counter.encode(text, add_special_tokens=False).ids)

    def windows(self, question: str, context: str, input_names: tuple[str, ...]) -> Windows:
        """Tokenize the pair into overlapping windows; `input_names` = arrays to build."""
        first, second = (question, context) if self.question_first else (context, question)
        encoding = self._windower.encode(first, second)
        encodings = [encoding, *encoding.overflowing]
        lengths = np.array([len(e.ids) for e in encodings], dtype=np.int64)
        n, width = len(encodings), int(lengths.max())
        left = self.info.padding_side == "left"

        ids = np.full((n, width), self.pad_token_id, dtype=np.int64)
        mask = np.zeros((n, width), dtype=np.int64)
        types = np.zeros((n, width), dtype=np.int64)
        # 1 where a token cannot be in the answer: not the context (4.x: `sequence_id != 1`
        # when the question comes first, nothing masked otherwise), padding included.
        p_mask = np.ones((n, width), dtype=np.int64)
        for row, enc in enumerate(encodings):
            size = len(enc.ids)
            cols = slice(width - size, width) if left else slice(0, size)
            ids[row, cols] = enc.ids
            mask[row, cols] = enc.attention_mask
            types[row, cols] = enc.type_ids
            if self.question_first:
                p_mask[row, cols] = [0 if s == 1 else 1 for s in enc.sequence_ids]
            else:
                p_mask[row, cols] = 0
        if self.cls_token_id is not None:
            # Kept unmasked, as in 4.x (some models point at it for "no answer").
            p_mask[ids == self.cls_token_id] = 0
        arrays = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        return Windows(
            encodings=encodings,
            arrays={name: arrays[name] for name in input_names if name in arrays},
            p_mask=p_mask,
            lengths=lengths,
            question_first=self.question_first,
        )


def uses_token_type_ids(model_dir: Path, tokenizer: QATokenizer, accepted: tuple[str, ...]) -> bool:
    """Pass token_type_ids only where the model takes them (`accepted`) and the checkpoint means them.

    The tokenizer's `model_input_names` decides when present (what transformers did);
    otherwise a model whose segment vocabulary has 2+ entries (BERT) gets them, one with a
    single entry (RoBERTa) does not - a 1 there would index past its embedding.
    """
    if "token_type_ids" not in accepted:
        return False
    names = tokenizer.info.model_input_names
    if names is not None:
        return "token_type_ids" in names
    try:
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return int(config.get("type_vocab_size", 0) or 0) > 1


def stack_windows(requests: list[dict[str, np.ndarray]], padding: Padding) -> dict[str, np.ndarray]:
    """The requests' windows as one array per input, padded to the longest window."""
    width = max(arrays["input_ids"].shape[1] for arrays in requests)
    rows = sum(arrays["input_ids"].shape[0] for arrays in requests)
    stacked = {}
    for name in requests[0]:
        out = np.full((rows, width), padding.value(name), dtype=requests[0][name].dtype)
        row = 0
        for arrays in requests:
            n, w = arrays[name].shape
            cols = slice(width - w, width) if padding.side == "left" else slice(0, w)
            out[row : row + n, cols] = arrays[name]
            row += n
        stacked[name] = out
    return stacked


def split_rows(
    start: np.ndarray, end: np.ndarray, shapes: list[tuple[int, int]], side: str
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each request's (start, end) logits back from the batch's, at its own width."""
    width = start.shape[1]
    parts, row = [], 0
    for n, w in shapes:
        cols = slice(width - w, width) if side == "left" else slice(0, w)
        parts.append((start[row : row + n, cols], end[row : row + n, cols]))
        row += n
    return parts
