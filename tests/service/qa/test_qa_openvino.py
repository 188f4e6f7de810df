"""OpenVINO runtime: IR parity, bf16/int8 agreement, the bf16 fallback, the compiled-blob cache.

The API, bad-input, concurrency, golden and real-server tests run on openvino too through
the parametrized fixtures in conftest.py; this file holds what is specific to OpenVINO.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from golden_compare import GOLDEN

from service.app import create_app
from service.bake import calibration
from service.bake import manifest as manifests
from service.qa.backends.openvino_backend import INDEX_FILE, OpenVinoBackend, cpu_has_bf16
from service.qa.model import QAModel
from service.settings import Settings

pytestmark = pytest.mark.slow  # every test here bakes an ONNX export + IR
ROOT = Path(__file__).resolve().parents[3]
ARCHS = ("distilbert", "bert", "roberta")
CASES = {e["arch"]: e["cases"] for e in json.loads(GOLDEN.read_text(encoding="utf-8"))["models"]}
QUESTION = "Where does the king live?"
CONTEXT = (
    "The old king lived in a large house near the forest, and each day he walked to the river "
    "with his dog. In the spring the river was high and the bridge was closed. "
) * 20
# Best spans equal to OpenVINO fp32's on the golden cases of the three tiny checkpoints;
# measured shares are in docs/bench/openvino.md; each floor allows one or two cases less.
AGREEMENT_FLOOR = {"bf16": 0.97, "int8": 0.95}


def _load(model_dir: Path, **kwargs) -> QAModel:
    return QAModel.load(model_dir, num_threads=1, max_question_tokens=200, **kwargs)


@pytest.mark.parametrize("arch", ARCHS)
def test_strict_fp32_matches_onnx_logits_and_spans(baked_model_factory, arch):
    onnx = _load(baked_model_factory("onnx", "fp32", arch))
    ov = _load(baked_model_factory("openvino", "fp32", arch))
    assert ov.backend.name == "openvino" and ov.backend.execution_precision == "fp32"
    assert ov.backend.compiled.get_property("INFERENCE_PRECISION_HINT").to_string() == "f32"
    assert onnx.input_names == ov.input_names
    windows = onnx.tokenizer.windows(QUESTION, CONTEXT, onnx.input_names)
    assert windows.count >= 3 and len(set(windows.lengths.tolist())) > 1  # a padded batch
    mask = windows.arrays["attention_mask"].astype(bool)
    for want, got in zip(onnx.backend(windows.arrays), ov.backend(windows.arrays), strict=True):
        assert got.dtype == np.float32 and got.shape == want.shape
        assert np.abs(got - want)[mask].max() < 1e-4
    for case in [{"question": QUESTION, "context": CONTEXT}, *CASES[arch]]:
        want = onnx.predict(case["question"], case["context"]).answers
        got = ov.predict(case["question"], case["context"]).answers
        assert [(a.answer, a.start, a.end) for a in got] == [(a.answer, a.start, a.end) for a in want]


@pytest.mark.parametrize("precision", sorted(AGREEMENT_FLOOR))
def test_bf16_and_int8_spans_agree_with_fp32_on_the_golden_cases(baked_model_factory, precision):
    if not cpu_has_bf16(__import__("openvino").Core()):
        pytest.skip("this CPU has no bf16: measured where it has (the fallback test covers the rest)")
    agree = total = 0
    for arch in ARCHS:
        fp32 = _load(baked_model_factory("openvino", "fp32", arch))
        other = _load(baked_model_factory("openvino", precision, arch))
        assert other.backend.execution_precision == {"bf16": "bf16", "int8": "int8+bf16"}[precision]
        for case in CASES[arch]:
            want = fp32.predict(case["question"], case["context"]).best
            got = other.predict(case["question"], case["context"]).best
            assert case["context"][got.start : got.end] == got.answer
            total += 1
            agree += (got.start, got.end) == (want.start, want.end)
    print(f"openvino {precision} vs fp32 best spans: {agree}/{total} = {agree / total:.1%}")
    assert total >= 60
    assert agree / total >= AGREEMENT_FLOOR[precision]


def test_int8_is_calibrated_on_the_repository_corpus_and_says_so(baked_model_factory):
    model_dir = baked_model_factory("openvino", "int8")
    build = manifests.verify(model_dir).build
    quantized = build["quantization"]
    assert quantized["calibration_sha256"] == calibration.corpus_sha256()
    assert quantized["calibration_windows"] == calibration.DEFAULT_WINDOWS
    assert (model_dir / "model.bin").stat().st_size < 0.75 * (
        baked_model_factory("openvino", "fp32") / "model.bin"
    ).stat().st_size
    text = (model_dir / "model.xml").read_text(encoding="utf-8")
    assert 'type="FakeQuantize"' in text or 'type="FakeConvert"' in text


def test_calibration_windows_are_cut_like_serving(baked_model_factory):
    model = _load(baked_model_factory("openvino", "fp32"))
    samples = calibration.windows(model.tokenizer, model.input_names, limit=10_000)
    lengths = [s["input_ids"].shape[1] for s in samples]
    assert len(samples) >= calibration.DEFAULT_WINDOWS  # "a few hundred" before the subset
    assert max(lengths) == model.tokenizer.max_seq_len and min(lengths) < model.tokenizer.max_seq_len // 2
    question, context = next(p for p in calibration.pairs() if len(p[1]) > 3000)
    served = model.tokenizer.windows(question, context, model.input_names)
    first = calibration.windows(model.tokenizer, model.input_names, limit=10_000)
    assert any(np.array_equal(s["input_ids"][0], served.arrays["input_ids"][0]) for s in first)


def test_bf16_falls_back_to_fp32_when_the_cpu_lacks_it(baked_model_factory, caplog, settings):
    model_dir = baked_model_factory("openvino", "bf16")
    with caplog.at_level(logging.WARNING, logger="service.qa.backends.openvino_backend"):
        backend = OpenVinoBackend(model_dir, num_threads=1, precision="bf16", bf16_probe=lambda core: False)
    assert [r.getMessage() for r in caplog.records] == [
        "bf16 requested, this CPU has no bf16 support: running fp32"
    ]
    assert (backend.precision, backend.execution_precision) == ("bf16", "fp32")
    assert backend.compiled.get_property("INFERENCE_PRECISION_HINT").to_string() == "f32"
    fp32 = OpenVinoBackend(baked_model_factory("openvino", "fp32"), num_threads=1, precision="fp32")
    ids = np.array([[2, 40, 41, 3, 50, 51, 3]], dtype=np.int64)
    feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
    assert all(np.array_equal(a, b) for a, b in zip(backend(feeds), fp32(feeds), strict=True))

    plain = _load(model_dir)
    model = QAModel(plain.tokenizer, backend, use_token_type_ids=False)
    ready = create_app(settings, model=model).test_client().get("/ready").get_json()
    assert (ready["backend"], ready["precision"], ready["execution_precision"]) == (
        "openvino",
        "bf16",
        "fp32",
    )
    assert ready["fallback"] == "bf16 requested, this CPU has no bf16 support: running fp32"


def test_bf16_runs_bf16_where_the_probe_says_the_cpu_has_it(baked_model_factory):
    backend = OpenVinoBackend(
        baked_model_factory("openvino", "bf16"), num_threads=1, precision="bf16", bf16_probe=lambda core: True
    )
    assert backend.execution_precision == "bf16" and backend.fallback is None
    assert "fallback" not in backend.describe()


@pytest.mark.parametrize(("has_bf16", "rest"), [(True, "bf16"), (False, "f32")])
def test_int8_runs_its_remainder_in_bf16_only_where_the_cpu_has_it(baked_model_factory, has_bf16, rest):
    backend = OpenVinoBackend(
        baked_model_factory("openvino", "int8"),
        num_threads=1,
        precision="int8",
        bf16_probe=lambda core: has_bf16,
    )
    assert backend.execution_precision == f"int8+{'bf16' if has_bf16 else 'fp32'}"
    assert backend.fallback is None  # nothing requested was refused
    if rest == "f32" or cpu_has_bf16(__import__("openvino").Core()):
        assert backend.compiled.get_property("INFERENCE_PRECISION_HINT").to_string() == rest


def _feeds() -> dict[str, np.ndarray]:
    ids = np.array([[2, *range(40, 100), 3, *range(120, 180), 3]], dtype=np.int64)
    return {"input_ids": ids, "attention_mask": np.ones_like(ids)}


def _damage_every_blob(cache: Path, how: str) -> None:
    for blob in cache.glob("*.blob"):
        data = bytearray(blob.read_bytes())
        if how == "flipped":  # inside the payload, where OpenVINO does not look
            for i in range(len(data) * 6 // 10, len(data) * 6 // 10 + 256):
                data[i] ^= 0xA5
        elif how == "truncated":
            data = data[: len(data) // 2]
        elif how == "garbage":
            data = bytearray(b"not a blob" * 10)
        blob.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["flipped", "truncated", "garbage", "unrecorded"])
def test_a_damaged_compiled_cache_is_dropped_and_never_answers(baked_model_factory, tmp_path, caplog, how):
    model_dir = baked_model_factory("openvino", "fp32")
    want = OpenVinoBackend(model_dir, num_threads=1)(_feeds())
    cache = tmp_path / "ov-cache"
    first = OpenVinoBackend(model_dir, num_threads=1, cache_dir=cache)
    assert first.cache == "miss" and list(cache.glob("*.blob"))
    assert OpenVinoBackend(model_dir, num_threads=1, cache_dir=cache).cache == "hit"
    if how == "unrecorded":  # a blob this service did not write (or its index lost)
        (cache / INDEX_FILE).unlink()
    else:
        _damage_every_blob(cache, how)
    with caplog.at_level(logging.WARNING, logger="service.qa.backends.openvino_backend"):
        again = OpenVinoBackend(model_dir, num_threads=1, cache_dir=cache)
    assert again.cache == "miss"  # compiled afresh, and recorded again
    assert any("failed its checksum" in r.getMessage() for r in caplog.records)
    assert all(np.array_equal(a, b) for a, b in zip(again(_feeds()), want, strict=True))
    assert OpenVinoBackend(model_dir, num_threads=1, cache_dir=cache).cache == "hit"


def test_a_cache_written_for_another_configuration_is_not_used(baked_model_factory, tmp_path):
    """Another precision (or CPU, or OpenVINO version) is another key: compiled, not imported."""
    cache = tmp_path / "ov-cache"
    fp32_dir = baked_model_factory("openvino", "fp32")
    OpenVinoBackend(fp32_dir, num_threads=1, cache_dir=cache)
    blobs = set(cache.glob("*.blob"))
    int8 = OpenVinoBackend(
        baked_model_factory("openvino", "int8"), num_threads=1, precision="int8", cache_dir=cache
    )
    assert int8.cache == "miss" and set(cache.glob("*.blob")) > blobs
    want = OpenVinoBackend(baked_model_factory("openvino", "int8"), num_threads=1, precision="int8")(_feeds())
    assert all(np.array_equal(a, b) for a, b in zip(int8(_feeds()), want, strict=True))


def test_cache_setting_is_checked_at_start(baked_model_factory, tmp_path):
    from service.settings import SettingsError

    model_dir = str(baked_model_factory("openvino", "fp32"))
    assert Settings.from_env({"MODEL_DIR": model_dir}).openvino_cache_dir is None
    where = tmp_path / "c"
    assert (
        Settings.from_env({"MODEL_DIR": model_dir, "OPENVINO_CACHE_DIR": str(where)}).openvino_cache_dir
        == where
    )
    with pytest.raises(
        SettingsError, match=r"^OPENVINO_CACHE_DIR='relative' is not valid: expected an absolute"
    ):
        Settings.from_env({"MODEL_DIR": model_dir, "OPENVINO_CACHE_DIR": "relative"})


_IMPORT_CHECK = """
import sys, json
from service.settings import Settings
from service.app import create_app
settings = Settings.from_env()
app = create_app(settings)
assert app.extensions["qa"].state.loaded.wait(60), "not loaded"
client = app.test_client()
ready = client.get("/ready").get_json()
answer = client.post("/predict", json={"question": "What am I?", "context": "Roses are red."})
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "transformers", "optimum", "onnx",
                                                            "onnxruntime", "nncf"))
print(json.dumps({"ready": ready, "status": answer.status_code, "heavy": heavy}))
"""


@pytest.mark.parametrize("precision", ["int8", "bf16"])
def test_the_openvino_serving_path_imports_no_torch_transformers_or_optimum(baked_model_factory, precision):
    model_dir = baked_model_factory("openvino", precision)
    env = {"MODEL_DIR": str(model_dir), "NUM_THREADS": "1", "LOG_LEVEL": "WARNING", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_CHECK],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["status"] == 200
    assert (report["ready"]["backend"], report["ready"]["precision"]) == ("openvino", precision)
    assert report["heavy"] == []


def test_an_openvino_manifest_lists_the_weights_and_catches_a_changed_bin(baked_model_factory, tmp_path):
    from service.settings import SettingsError

    model_dir = tmp_path / "model"
    shutil.copytree(baked_model_factory("openvino", "int8"), model_dir)
    manifest = manifests.verify(model_dir)
    assert (manifest.runtime, manifest.precision, manifest.model_file) == ("openvino", "int8", "model.xml")
    assert {"model.xml", "model.bin"} <= set(manifest.files)
    data = bytearray((model_dir / "model.bin").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (model_dir / "model.bin").write_bytes(bytes(data))
    with pytest.raises(SettingsError, match=r"model\.bin has checksum sha256:"):
        Settings.from_env({"MODEL_DIR": str(model_dir)})
