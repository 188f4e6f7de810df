"""Random-weight extractive-QA checkpoints with a real tokenizer, for tests and benchmarks.

Slightly over ~300 lines: three tokenizer families and the deterministic weight fill belong
together (the golden test depends on their byte-identical output).

Tests and CI run offline, so nothing may download a real model. This module builds a
checkpoint that *loads and runs exactly like one*: a fast tokenizer (`tokenizer.json`, a small
WordPiece vocab for DistilBERT/BERT, a small byte-level BPE for RoBERTa) plus weights saved with
`save_pretrained` (safetensors). The answers are meaningless, the shapes and code paths are real.

    from bench.fake_model import make_fake_qa_model
    path = make_fake_qa_model(tmp_dir, preset="tiny")         # tests: ~300 kB, loads in ms
    path = make_fake_qa_model(dir, preset="distilbert-base")  # benchmarks: real shapes

Output is byte-identical for the same (preset, arch, seed) and pinned library versions: the
vocabulary depends only on the preset/arch, and the weights are drawn with NumPy's
`default_rng(seed)` (stable across NumPy releases) in sorted parameter-name order, instead of
relying on transformers' initialisation order. The golden test relies on this.

CLI: `python -m bench.fake_model OUT_DIR [--preset tiny|distilbert-base]
      [--arch distilbert|bert|roberta] [--seed 0]`
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import transformers
from tokenizers import (
    Tokenizer,
    decoders,
    models,
    normalizers,
    pre_tokenizers,
    processors,
    trainers,
)
from transformers import (
    AutoModelForQuestionAnswering,
    BertConfig,
    DistilBertConfig,
    PreTrainedTokenizerFast,
    RobertaConfig,
)

__all__ = ["ARCHS", "PRESETS", "Preset", "make_fake_qa_model"]


@dataclass(frozen=True)
class Preset:
    dim: int
    layers: int
    heads: int
    hidden_dim: int
    vocab_size: int  # WordPiece target size; the BPE vocab is padded up to it in the embedding
    max_position: int = 512
    # Std of the QA head weights, times sqrt(dim) = std of the logits. Random BERT-style init
    # (0.02) gives near-uniform span scores, where argmax comparisons hinge on float noise; a
    # trained QA model is peaked, and so is this one.
    logit_std: float = 4.0


PRESETS: dict[str, Preset] = {
    "tiny": Preset(dim=32, layers=2, heads=2, hidden_dim=64, vocab_size=1600),
    # distilbert-base-cased(-distilled-squad): dim 768, 6 layers, 12 heads, FFN 3072, vocab 28996.
    "distilbert-base": Preset(dim=768, layers=6, heads=12, hidden_dim=3072, vocab_size=28996),
}
ARCHS = ("distilbert", "bert", "roberta")

_INIT_STD = 0.02

# Words that tests and examples use, so they tokenize to whole words like with a real vocab.
_WORD_TEXT = """
the of and to a in is was for on that with as by at from it an be are this which or his her
he she they we you i not but have has had were been their there what who when where why how
one two three four five first last new old year years city river capital country name names
red blue green yellow black white roses violets sugar sweet so am do does did can could will
would should may might must shall answer question context model about after before between
during over under into through up down out off again more most some any each other such only
own same than too very just also now then here all both few many much long short big small
high low good bad great little right left large early late young important public able free
france paris germany berlin japan tokyo china beijing italy rome spain madrid london england
europe world history river mountain sea ocean lake forest island tower bridge church museum
king queen president war peace science music art book books language languages people person
born died founded built named called known located lives live lived work works worked made
make makes wrote written number numbers day days time times month months century centuries
water fire earth air light dark sun moon star stars north south east west center centre
university school student students teacher company market money price cost value fox dog
quick brown jumps lazy cat cats dogs bird birds tree trees flower flowers garden house home
café naïve résumé über straße señor élève à été déjà où français español deutsch
"""
_WORDS = _WORD_TEXT.split()

_CJK = (
    "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学"
    "对可里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面"
    "公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情"
    "部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北"
    "京都東京日本語中文学校红色玫瑰紫罗兰蓝糖甜你我巴黎法国首都"
    "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをん"
)
# Some emoji are in the vocab, others are not (they become [UNK]: offsets must still map back).
_EMOJI = "🌹😀👍🎉❤🔥"


def _wordpiece_vocab(size: int) -> list[str]:
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    chars = [chr(c) for c in range(33, 127)]
    chars += [chr(c) for c in range(0xC0, 0x100) if c not in (0xD7, 0xF7)]
    chars += list("ąćęłńśźżőűčšžřğışαβγδεζηθλμπσωабвгдежзиклмнопрстуфхцчшщыэюя")
    chars += list(dict.fromkeys(_CJK)) + list(_EMOJI)
    alnum = [c for c in chars if c.isalnum()]
    suffixes = ["##" + c for c in alnum] + ["##" + e for e in _EMOJI[:3]]
    pieces = ["##s", "##es", "##ed", "##ing", "##ly", "##er", "##est", "##tion", "##ment", "##al"]
    vocab = list(dict.fromkeys(specials + chars + suffixes + pieces + _WORDS))
    vocab += [w.capitalize() for w in _WORDS if w.capitalize() not in vocab]
    # Fill to the target size with deterministic pseudo-words and word pieces, so the embedding
    # has the real shape and the vocab the real lookup cost.
    rng = np.random.default_rng(size)
    letters = list("abcdefghijklmnopqrstuvwxyz")
    seen = set(vocab)
    while len(vocab) < size:
        word = "".join(rng.choice(letters, size=int(rng.integers(2, 10))))
        word = ("##" if rng.random() < 0.33 else "") + (word.capitalize() if rng.random() < 0.2 else word)
        if word not in seen:
            seen.add(word)
            vocab.append(word)
    return vocab


def _bert_tokenizer(size: int):
    vocab = {token: i for i, token in enumerate(_wordpiece_vocab(size))}
    unk = "[UNK]"
    tok = Tokenizer(models.WordPiece(vocab=vocab, unk_token=unk, max_input_chars_per_word=100))
    # Cased, like distilbert-base-cased: no lowercasing, accents kept.
    tok.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=False
    )
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    cls_id, sep_id = vocab["[CLS]"], vocab["[SEP]"]
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    tok.decoder = decoders.WordPiece()
    specials = {
        "unk_token": "[UNK]",
        "cls_token": "[CLS]",
        "sep_token": "[SEP]",
        "pad_token": "[PAD]",
        "mask_token": "[MASK]",
    }
    return tok, specials


def _bpe_corpus() -> list[str]:
    sentences = [" ".join(_WORDS[i : i + 12]) for i in range(0, len(_WORDS), 12)] + [
        "Roses are red, violets are blue. Sugar is sweet, and so are you.",
        "The quick brown fox jumps over the lazy dog.",
        "What is the capital of France? Paris is the capital of France.",
        "Who wrote the book? When was the city founded? Where is the river?",
        _CJK,
    ]
    return sentences * 4


def _roberta_tokenizer(size: int):
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=min(size, 2000),
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_bpe_corpus(), trainer)  # deterministic for a fixed corpus
    tok.post_processor = processors.RobertaProcessing(
        ("</s>", 2), ("<s>", 0), trim_offsets=True, add_prefix_space=False
    )
    tok.decoder = decoders.ByteLevel()
    names = {
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "cls_token": "<s>",
        "sep_token": "</s>",
        "pad_token": "<pad>",
        "mask_token": "<mask>",
    }
    return tok, names


def _config(arch: str, preset: Preset, vocab_size: int):
    if arch == "distilbert":
        return DistilBertConfig(
            vocab_size=vocab_size,
            dim=preset.dim,
            n_layers=preset.layers,
            n_heads=preset.heads,
            hidden_dim=preset.hidden_dim,
            max_position_embeddings=preset.max_position,
            pad_token_id=0,
        )
    common = {
        "hidden_size": preset.dim,
        "num_hidden_layers": preset.layers,
        "num_attention_heads": preset.heads,
        "intermediate_size": preset.hidden_dim,
    }
    if arch == "bert":
        return BertConfig(
            vocab_size=vocab_size,
            max_position_embeddings=preset.max_position,
            type_vocab_size=2,
            pad_token_id=0,
            **common,
        )
    # RoBERTa offsets positions by padding_idx + 1, hence max_position + 2.
    return RobertaConfig(
        vocab_size=vocab_size,
        max_position_embeddings=preset.max_position + 2,
        type_vocab_size=1,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        **common,
    )


def _fill_weights(model, preset: Preset, seed: int) -> None:
    """Overwrite every parameter with values from NumPy's seeded generator (see module doc)."""
    rng = np.random.default_rng(seed)
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name in sorted(params):
            param = params[name]
            if name.endswith("bias"):
                values = np.zeros(param.shape, dtype=np.float32)
            elif "norm" in name.lower() and param.ndim == 1:
                values = np.ones(param.shape, dtype=np.float32)  # LayerNorm gain
            else:
                std = preset.logit_std / preset.dim**0.5 if "qa_outputs" in name else _INIT_STD
                values = rng.standard_normal(param.shape, dtype=np.float32) * np.float32(std)
            param.copy_(torch.from_numpy(values))


def make_fake_qa_model(
    out_dir: str | Path,
    preset: str = "tiny",
    arch: str = "distilbert",
    seed: int = 0,
) -> Path:
    """Write a random-weight `*ForQuestionAnswering` checkpoint with a fast tokenizer to `out_dir`.

    Returns `out_dir` as a Path. Files: config.json, model.safetensors, tokenizer.json,
    tokenizer_config.json. Loads with `AutoModelForQuestionAnswering.from_pretrained` and
    `AutoTokenizer.from_pretrained` (transformers 4.x and 5.x) and with
    `tokenizers.Tokenizer.from_file(out_dir / "tokenizer.json")`.
    """
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
    if arch not in ARCHS:
        raise ValueError(f"unknown arch {arch!r}; choose one of {list(ARCHS)}")
    transformers.utils.logging.disable_progress_bar()  # "Writing model shards" noise
    spec = PRESETS[preset]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    tok, special_names = (_roberta_tokenizer if arch == "roberta" else _bert_tokenizer)(spec.vocab_size)
    # BERT reads token_type_ids (segment embeddings); DistilBERT has none, RoBERTa's tokenizer
    # does not return them. Written to tokenizer_config.json, like the real checkpoints imply.
    input_names = ["input_ids", "attention_mask"]
    if arch == "bert":
        input_names = ["input_ids", "token_type_ids", "attention_mask"]
    hf_tok = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        model_max_length=spec.max_position,
        padding_side="right",
        truncation_side="right",
        model_input_names=input_names,
        **special_names,
    )
    hf_tok.save_pretrained(out)
    # transformers 5 writes its own class name ("TokenizersBackend"), unknown to 4.x; the
    # generic fast class loads in both, which the golden comparison with 4.x needs.
    cfg_path = out / "tokenizer_config.json"
    tok_cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    tok_cfg["tokenizer_class"] = "PreTrainedTokenizerFast"
    tok_cfg.pop("backend", None)
    cfg_path.write_text(json.dumps(tok_cfg, indent=2, sort_keys=True) + "\n", encoding="utf-8")

    vocab_size = max(spec.vocab_size, tok.get_vocab_size())
    torch.manual_seed(seed)  # only for any init code path we then overwrite; keeps runs quiet
    model = AutoModelForQuestionAnswering.from_config(_config(arch, spec, vocab_size))
    _fill_weights(model, spec, seed)
    model.eval()
    model.save_pretrained(out, safe_serialization=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="tiny")
    parser.add_argument("--arch", choices=ARCHS, default="distilbert")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    path = make_fake_qa_model(args.out_dir, args.preset, args.arch, args.seed)
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
