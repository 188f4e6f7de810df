"""The int8 accuracy gate in the bake (service/bake/accuracy.py + bootstrap): its decision, a bake
it refuses, a bake it keeps (numbers in the manifest and /ready), and its flags.

The tiny random-weight models answer the sample about as badly in fp32 as in int8, so a real
pair always passes; the refusal is shown with predictors put in place of the loaded models (a
stand-in fp32 that answers every gold answer, an int8 that misses every other question)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.local_service import free_port
from service.app import create_app
from service.bake import accuracy, accuracy_data, bootstrap
from service.bake import manifest as manifests
from service.bake.squad_metric import Score
from service.settings import Settings


def _result(reference_f1: float, candidate_f1: float, margin: float = 1.0) -> accuracy.GateResult:
    sample = accuracy_data.load(accuracy_data.BUILTIN, 0)
    n = len(sample.examples)
    return accuracy.GateResult(
        sample=sample,
        margin=margin,
        reference=Score(exact_match=reference_f1 - 5, f1=reference_f1, count=n),
        candidate=Score(exact_match=candidate_f1 - 5, f1=candidate_f1, count=n),
    )


@pytest.mark.parametrize(
    ("reference", "candidate", "margin", "passed"),
    [
        (87.0, 86.0, 1.0, True),  # exactly the margin: kept
        (87.0, 85.99, 1.0, False),
        (87.0, 88.5, 0.0, True),  # int8 better than fp32
        (87.0, 86.5, 0.0, False),
        (87.0, 0.0, 100.0, True),  # a margin of 100 keeps anything
    ],
)
def test_the_gate_refuses_int8_more_than_the_margin_below_fp32(reference, candidate, margin, passed):
    assert _result(reference, candidate, margin).passed is passed


def test_a_refusal_is_one_line_with_both_scores_the_sample_and_the_margin():
    message = _result(86.1, 72.9).refusal()
    assert message == (
        "int8 accuracy gate refused the bake: int8 F1 72.90 (EM 67.90) against fp32 F1 86.10 "
        f"(EM 81.10) on {len(accuracy_data.load(accuracy_data.BUILTIN, 0).examples)} questions of builtin: "
        "13.20 points lost, margin 1; serve fp32 (or bf16), or raise the margin (stack setting "
        "int8AccuracyMargin, --accuracy-margin)"
    )


@pytest.mark.parametrize(("text", "value"), [("0", 0.0), ("1.5", 1.5), ("100", 100.0)])
def test_margins_from_0_to_100_f1_points(text, value):
    assert accuracy.parse_margin(text) == value


@pytest.mark.parametrize("text", ["-0.1", "100.01", "nan", "inf", "one", ""])
def test_a_margin_outside_0_to_100_is_one_line(text):
    with pytest.raises(accuracy.AccuracyGateError) as caught:
        accuracy.parse_margin(text)
    assert (
        str(caught.value) == f"--accuracy-margin {text!r} is not valid: a number of F1 points 0…100, e.g. 1.0"
    )


def _gold_by_question() -> dict[tuple[str, str], str]:
    sample = accuracy_data.load(accuracy_data.BUILTIN, 0)
    return {(e.question, e.context): e.answers[0] for e in sample.examples}


@pytest.mark.slow  # exports the tiny checkpoint twice (int8 candidate, fp32 reference)
def test_an_int8_bake_that_loses_accuracy_is_refused_in_one_line(
    tiny_model_dir, tmp_path, capsys, monkeypatch
):
    gold = _gold_by_question()
    order = list(gold)
    out = tmp_path / "baked"
    loaded: list[Path] = []

    def load_predictor(model_dir: Path) -> accuracy.Predictor:
        loaded.append(model_dir)
        assert manifests.describe(model_dir).precision == ("int8" if model_dir == out else "fp32")
        if model_dir == out:  # the int8 candidate: misses every other question
            return lambda q, c: gold[q, c] if order.index((q, c)) % 2 == 0 else ""
        return lambda q, c: gold[q, c]

    monkeypatch.setattr(accuracy, "load_predictor", load_predictor)
    argv = [
        "--source",
        str(tiny_model_dir),
        "--out",
        str(out),
        "--runtime",
        "onnx",
        "--precision",
        "int8",
        "--accuracy-data",
        "builtin",
    ]
    assert bootstrap.main(argv) == 1
    assert len(loaded) == 2 and loaded[1] == out
    n = len(order)
    right = (n + 1) // 2
    kept = 100 * right / n
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == (
        f"error: int8 accuracy gate refused the bake: int8 F1 {kept:.2f} (EM {kept:.2f}) against "
        f"fp32 F1 100.00 (EM 100.00) on {n} questions of builtin: {100 - kept:.2f} points lost, "
        "margin 1; serve fp32 (or bf16), or raise the margin (stack setting int8AccuracyMargin, "
        "--accuracy-margin)"
    )
    # Refused: no manifest, so neither the image's verify step nor the service loads it.
    assert not (out / manifests.MANIFEST_FILE).exists()
    with pytest.raises(manifests.ManifestError):
        manifests.describe(out)


@pytest.mark.slow  # bakes (cached per session) and starts the app on the result
def test_a_passing_gate_puts_its_numbers_in_the_manifest_and_ready(baked_model_factory):
    int8_dir = baked_model_factory("onnx", "int8")
    fp32_dir = baked_model_factory("onnx", "fp32")
    gate = manifests.describe(int8_dir).accuracy_gate
    sample = accuracy_data.load(accuracy_data.BUILTIN, accuracy_data.DEFAULT_SAMPLE)
    # The recorded numbers are the scores of the served directories, recomputed here: the
    # fp32 reference was baked from the same checkpoint the same way as the fp32 directory.
    int8 = accuracy.evaluate(accuracy.load_predictor(int8_dir), sample)
    fp32 = accuracy.evaluate(accuracy.load_predictor(fp32_dir), sample)
    assert gate == {
        "metric": "SQuAD v1.1 exact match and F1 (official normalisation), percent",
        **sample.as_json(),
        "fp32": fp32.as_json(),
        "int8": int8.as_json(),
        "f1_drop": round(fp32.f1 - int8.f1, 2),
        "margin": accuracy.DEFAULT_MARGIN,
        "passed": True,
    }
    assert json.loads((int8_dir / manifests.MANIFEST_FILE).read_text())["accuracy_gate"] == gate
    assert manifests.describe(fp32_dir).accuracy_gate is None  # only int8 is gated

    for model_dir, expected in ((int8_dir, gate), (fp32_dir, None)):
        app = create_app(Settings.from_env({"MODEL_DIR": str(model_dir), "NUM_THREADS": "1"}))
        assert app.extensions["qa"].state.loaded.wait(60)
        ready = app.test_client().get("/ready")
        assert ready.status_code == 200
        assert ready.get_json()["accuracy_gate"] == expected


def test_an_int8_bake_without_network_fails_before_downloading_the_model(tmp_path, capsys, monkeypatch):
    url = f"http://127.0.0.1:{free_port()}/dev-v1.1.json"  # nothing listens: no network
    monkeypatch.setattr(accuracy_data, "SQUAD_DEV_URL", url)
    monkeypatch.setattr(bootstrap, "fetch", lambda *a, **k: pytest.fail("fetched before the gate's data"))
    argv = [
        "--source",
        "acme/qa",
        "--out",
        str(tmp_path / "o"),
        "--runtime",
        "openvino",
        "--precision",
        "int8",
    ]
    assert bootstrap.main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"error: cannot download {url} (")
    assert err[0].endswith(
        "or pass --accuracy-data builtin (the project's small sample) or a path to a local copy"
    )
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        (
            ("--accuracy-margin", "1.5x"),
            "error: --accuracy-margin '1.5x' is not valid: a number of F1 points 0…100",
        ),
        (("--accuracy-sample", "-3"), "error: --accuracy-sample '-3' is not valid: a whole number ≥ 0"),
        (("--accuracy-sample", "٣"), "error: --accuracy-sample '٣' is not valid: a whole number ≥ 0"),
        (("--accuracy-data", "squad"), "error: --accuracy-data 'squad' is not valid: squad-v1.1-dev"),
    ],
)
def test_bad_gate_flags_are_one_line_before_anything_is_fetched(
    tmp_path, capsys, monkeypatch, flag, expected
):
    monkeypatch.setattr(bootstrap, "fetch", lambda *a, **k: pytest.fail("fetched despite a bad flag"))
    argv = ["--source", "acme/qa", "--out", str(tmp_path / "o"), "--precision", "int8", *flag]
    assert bootstrap.main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(expected), err


def test_an_fp32_bake_needs_no_gate_data(tmp_path, capsys, monkeypatch):
    """The gate's data is only fetched for int8: an fp32 bake never touches the network for it."""
    monkeypatch.setattr(accuracy_data, "load", lambda *a, **k: pytest.fail("gate data loaded for fp32"))
    monkeypatch.setattr(
        bootstrap, "fetch", lambda *a, **k: (_ for _ in ()).throw(bootstrap.BootstrapError("stop"))
    )
    argv = ["--source", "acme/qa", "--out", str(tmp_path / "o"), "--precision", "fp32"]
    assert bootstrap.main(argv) == 1
    assert capsys.readouterr().err.strip() == "error: stop"
