"""Write the golden answers of the transformers 4.x question-answering pipeline.

Run with a THROWAWAY virtualenv that has transformers 4.x (never the project's .venv, which
has 5.x, where the pipeline no longer exists):

    python3 -m venv /tmp/tf4
    /tmp/tf4/bin/pip install torch==2.13.0 'transformers<5'
    /tmp/tf4/bin/python tests/service/qa/make_golden.py --project-python .venv/bin/python

For each architecture it has the project's Python generate the tiny checkpoint with
`bench.fake_model` (deterministic: the sha256 of the files is recorded, and the test checks
it regenerates byte-identical), runs the real 4.x `pipeline("question-answering")` over
CASES, and writes inputs + outputs to tests/service/qa/golden_qa_4x.json. The project's test
(test_service_golden.py) replays them through service/ with transformers 5.x.

`--preset distilbert-base --arch distilbert --out /tmp/golden-base.json` does the same on a
DistilBERT-base-shaped model; compare with `.venv/bin/python tests/service/qa/golden_compare.py`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DEFAULT_OUT = Path(__file__).with_name("golden_qa_4x.json")

ROSES = "Roses are red, violets are blue, sugar is sweet, and so are you."
PARIS = (
    "Paris is the capital of France. The city was founded before the Roman period and the river "
    "Seine flows through it. The tower was built in 1889 for the world fair."
)
FILLER = (
    "The old king lived in a large house near the forest, and each day he walked to the river "
    "with his dog. Many people in the city knew him, but few had ever spoken to him. "
)
CJK_FILLER = "北京是中国的首都。东京是日本的首都。我们在学校学习中文和日本語。"
EMOJI_FILLER = "The fire 🔥 is hot 🌶 and the rose 🌹 is red 😀 today 👍🏽 for everyone 🎉. "

# (id, question, context, pipeline options)
CASES: list[tuple[str, str, str, dict]] = [
    ("seed-example", "What am I?", ROSES, {}),
    ("seed-sugar", "What is sugar?", ROSES, {}),
    ("ascii-fact", "When was the tower built?", PARIS, {}),
    ("ascii-who", "Who lives near the forest?", FILLER, {}),
    ("accents-fr", "Où est le café?", "Le café naïve est à Paris, déjà très français. L'élève a été là.", {}),
    (
        "accents-de",
        "Was ist über der Straße?",
        "Über der Straße steht ein Haus; Señor Müller wohnt dort.",
        {},
    ),
    ("cjk-zh", "法国的首都是什么？", "巴黎是法国的首都。北京是中国的首都，东京是日本的首都。", {}),
    ("cjk-ja", "日本の首都は？", "東京は日本の首都です。京都は古い都です。", {}),
    ("emoji-known", "What is red?", "The rose 🌹 is red 😀 and the fire 🔥 is hot today.", {}),
    ("emoji-unknown", "Who came?", "The family 👨‍👩‍👧 came from France 🇫🇷 with a unicorn 🦄 yesterday.", {}),
    (
        "combining-marks",
        "Where is the cafe\u0301?",
        "The cafe\u0301 is in the old city near the re\u0301sume\u0301 shop.",
        {},
    ),
    ("rtl-unknown", "What is the word?", "The word مرحبا means hello and שלום means peace.", {}),
    ("whitespace", "What is blue?", "Roses  are\tred,\n\nviolets   are\r\nblue,  sugar is sweet.", {}),
    ("punctuation", "What did he say?", 'He said: "It\'s a well-known fact -- (really!)" and left...', {}),
    ("numbers", "When was it founded?", "The university was founded in 1209, about 816 years ago.", {}),
    ("repeated-phrase", "What is red?", "Red is red. The red rose is red. Red, red, red is the colour.", {}),
    ("tiny-context", "What?", "x", {}),
    ("long-question", "What " + "is the name of the old river near the city " * 4 + "?", PARIS, {}),
    ("multi-window-ascii", "What flows through Paris?", FILLER * 14 + PARIS, {}),
    ("multi-window-cjk", "首都？", CJK_FILLER * 22, {}),
    ("multi-window-emoji", "What is hot?", EMOJI_FILLER * 24, {}),
    ("top-k-3", "What am I?", ROSES, {"top_k": 3}),
    ("top-k-multi-window", "Who walked?", FILLER * 10, {"top_k": 4}),
    ("max-answer-len-3", "What is the capital?", PARIS, {"max_answer_len": 3}),
    ("impossible-allowed", "What am I?", ROSES, {"handle_impossible_answer": True}),
    (
        "no-word-alignment",
        "法国的首都是什么？",
        "巴黎是法国的首都。北京是中国的首都。",
        {"align_to_words": False},
    ),
]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def generate(project_python: str, out: Path, preset: str, arch: str, seed: int) -> None:
    subprocess.run(
        [
            project_python,
            "-m",
            "bench.fake_model",
            str(out),
            "--preset",
            preset,
            "--arch",
            arch,
            "--seed",
            str(seed),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )


def run_pipeline(model_dir: Path) -> list[dict]:
    import transformers
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer, pipeline

    if int(transformers.__version__.split(".")[0]) >= 5:
        sys.exit("run this with transformers 4.x (a throwaway venv), not the project's 5.x")
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForQuestionAnswering.from_pretrained(model_dir)
    qa = pipeline("question-answering", model=model, tokenizer=tokenizer, device="cpu")
    results = []
    for case_id, question, context, options in CASES:
        output = qa(question=question, context=context, **options)
        answers = output if isinstance(output, list) else [output]
        results.append(
            {
                "id": case_id,
                "question": question,
                "context": context,
                "options": options,
                "answers": [{k: a[k] for k in ("answer", "score", "start", "end")} for a in answers],
            }
        )
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project-python", default=str(ROOT / ".venv/bin/python"))
    parser.add_argument("--preset", default="tiny")
    parser.add_argument("--arch", action="append", help="default: distilbert, bert, roberta")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    import tokenizers
    import torch
    import transformers

    golden = {
        "made_with": {
            "transformers": transformers.__version__,
            "tokenizers": tokenizers.__version__,
            "torch": torch.__version__,
            "command": "tests/service/qa/make_golden.py " + " ".join(sys.argv[1:]),
        },
        "models": [],
    }
    for arch in args.arch or ["distilbert", "bert", "roberta"]:
        with tempfile.TemporaryDirectory() as tmp:
            model_dir = Path(tmp) / arch
            generate(args.project_python, model_dir, args.preset, arch, args.seed)
            golden["models"].append(
                {
                    "preset": args.preset,
                    "arch": arch,
                    "seed": args.seed,
                    "sha256": {
                        name: sha256(model_dir / name)
                        for name in ("model.safetensors", "tokenizer.json", "tokenizer_config.json")
                    },
                    "cases": run_pipeline(model_dir),
                }
            )
        print(f"{arch}: {len(CASES)} cases", file=sys.stderr)
    args.out.write_text(json.dumps(golden, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
