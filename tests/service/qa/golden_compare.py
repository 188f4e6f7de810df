"""Replay golden 4.x pipeline answers through service/ (transformers 5.x) and compare.

    .venv/bin/python tests/service/qa/golden_compare.py [--runtime onnx [--precision int8]] [GOLDEN.json ...]

Regenerates each recorded checkpoint with bench.fake_model, checks it is byte-identical to
the one the golden file was made from, runs every case through `QAModel.predict` and
reports agreement: spans (answer, start, end) must be equal, scores equal within
SCORE_RTOL. test_service_golden.py asserts the same on the committed file, for the torch
backend and for the ONNX export of the same checkpoints (service.bake.bootstrap --runtime onnx).
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.fake_model import make_fake_qa_model  # noqa: E402 - after the path fix for CLI use
from service.qa.model import QAModel  # noqa: E402
from service.qa.spans import DecodeOptions  # noqa: E402

GOLDEN = Path(__file__).with_name("golden_qa_4x.json")
# Windows run as one padded batch here, one by one in the pipeline: float noise only.
from tests.service.service_helpers import SCORE_ATOL, SCORE_RTOL  # noqa: E402


@dataclass
class Agreement:
    arch: str
    cases: int = 0
    answers: int = 0
    span_mismatches: list[str] = field(default_factory=list)
    score_mismatches: list[str] = field(default_factory=list)
    max_score_diff: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.span_mismatches and not self.score_mismatches


def file_hashes(model_dir: Path, names) -> dict[str, str]:
    return {name: hashlib.sha256((model_dir / name).read_bytes()).hexdigest() for name in names}


def compare_model(entry: dict, model_dir: Path) -> Agreement:
    model = QAModel.load(model_dir, num_threads=1, max_question_tokens=200)
    result = Agreement(arch=entry["arch"])
    for case in entry["cases"]:
        result.cases += 1
        prediction = model.predict(case["question"], case["context"], DecodeOptions(**case["options"]))
        got = [a.as_dict() for a in prediction.answers]
        want = case["answers"]
        spans = [(a["answer"], a["start"], a["end"]) for a in got]
        if spans != [(a["answer"], a["start"], a["end"]) for a in want]:
            result.span_mismatches.append(f"{case['id']}: got {got}, want {want}")
            continue
        for mine, theirs in zip(got, want, strict=True):
            result.answers += 1
            diff = abs(mine["score"] - theirs["score"])
            result.max_score_diff = max(result.max_score_diff, diff)
            if not math.isclose(mine["score"], theirs["score"], rel_tol=SCORE_RTOL, abs_tol=SCORE_ATOL):
                result.score_mismatches.append(f"{case['id']}: {mine['score']} vs {theirs['score']}")
    return result


def bake_for(model_dir: Path, runtime: str, precision: str) -> Path:
    """The checkpoint as the image would serve it (torch: as is; onnx: exported once, cached)."""
    if runtime == "torch" and precision == "fp32":
        return model_dir
    from service.bake.accuracy_data import BUILTIN
    from service.bake.bootstrap import bake

    out = model_dir.with_name(f"{model_dir.name}-{runtime}-{precision}")
    if not (out / "service_manifest.json").is_file():
        bake(str(model_dir), None, out, runtime=runtime, precision=precision, accuracy_data=BUILTIN)
    return out


def compare_file(
    path: Path, work_dir: Path, runtime: str = "torch", precision: str = "fp32"
) -> list[Agreement]:
    golden = json.loads(path.read_text(encoding="utf-8"))
    results = []
    for entry in golden["models"]:
        model_dir = work_dir / f"{entry['preset']}-{entry['arch']}-{entry['seed']}"
        if not (model_dir / "config.json").is_file():
            make_fake_qa_model(model_dir, preset=entry["preset"], arch=entry["arch"], seed=entry["seed"])
        if file_hashes(model_dir, entry["sha256"]) != entry["sha256"]:
            raise AssertionError(
                f"{entry['arch']}: bench.fake_model no longer generates the checkpoint the golden "
                "file was made from; regenerate it (see tests/service/qa/make_golden.py)"
            )
        results.append(compare_model(entry, bake_for(model_dir, runtime, precision)))
    return results


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--runtime", choices=("torch", "onnx", "openvino"), default="torch")
    parser.add_argument("--precision", choices=("fp32", "bf16", "int8"), default="fp32")
    args = parser.parse_args(argv)
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for path in args.paths or [GOLDEN]:
            for r in compare_file(path, Path(tmp), args.runtime, args.precision):
                ok &= r.ok
                print(
                    f"{path.name} {r.arch}: {r.cases} cases, {r.answers} answers; "
                    f"span mismatches {len(r.span_mismatches)}, score mismatches "
                    f"{len(r.score_mismatches)}, max |score diff| {r.max_score_diff:.2e}"
                )
                for line in r.span_mismatches + r.score_mismatches:
                    print("  " + line)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
