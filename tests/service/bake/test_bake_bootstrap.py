"""service/bake/bootstrap.py: bake a checkpoint into a servable directory and prove it loads."""

from __future__ import annotations

import json

import pytest

from service.app import create_app
from service.bake import bootstrap
from service.bake.manifest import MANIFEST_FILE
from service.qa.model import QAModel
from service.settings import Settings

QUESTION, CONTEXT = "Who lives there?", "The king of France lives in Paris, near the river."


WEIGHTS = {"torch": "model.safetensors", "onnx": "model.onnx"}


@pytest.mark.parametrize(
    ("arch", "runtime"),
    [("bert", "torch"), ("roberta", "torch"), pytest.param("bert", "onnx", marks=pytest.mark.slow)],
)
def test_round_trip_from_a_local_checkpoint(tiny_model_factory, tmp_path, capsys, arch, runtime):
    source = tiny_model_factory(arch)
    out = tmp_path / "baked"
    argv = ["--source", str(source), "--out", str(out), "--model-id", "acme/qa", "--runtime", runtime]
    assert bootstrap.main(argv) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["model_id"] == "acme/qa"
    assert printed["revision"].startswith("sha256:")
    assert (printed["runtime"], printed["precision"]) == (runtime, "fp32")
    verified = printed["answer"]  # bootstrap loaded the result back and answered
    assert verified["answer"] == bootstrap.VERIFY_CONTEXT[verified["start"] : verified["end"]]
    names = {p.name for p in out.iterdir()}
    assert {
        "config.json",
        WEIGHTS[runtime],
        "tokenizer.json",
        "tokenizer_config.json",
        bootstrap.METADATA_FILE,
        MANIFEST_FILE,
    } <= names
    assert not list(out.glob("*.bin"))  # safetensors only
    assert not {*WEIGHTS.values()} - {WEIGHTS[runtime]} & names  # only this runtime's weights
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    assert (manifest["runtime"], manifest["model_id"], manifest["max_seq_len"]) == (runtime, "acme/qa", 384)
    assert (
        manifest["input_names"]
        == ["input_ids", "attention_mask", "token_type_ids"][: 3 if arch == "bert" else 2]
    )
    assert set(manifest["files"]) == names - {MANIFEST_FILE}
    tok_config = json.loads((out / "tokenizer_config.json").read_text())
    assert tok_config["padding_side"] == "right"
    assert ("token_type_ids" in tok_config["model_input_names"]) is (arch == "bert")

    # Same answers from the baked copy as from the source checkpoint.
    baked = QAModel.load(out, num_threads=1).predict(QUESTION, CONTEXT).answers
    original = QAModel.load(source, num_threads=1).predict(QUESTION, CONTEXT).answers
    assert [(a.answer, a.start, a.end) for a in baked] == [(a.answer, a.start, a.end) for a in original]
    assert baked[0].score == pytest.approx(original[0].score, rel=1e-5)

    # The service reports what bootstrap recorded.
    settings = Settings.from_env({"MODEL_DIR": str(out), "NUM_THREADS": "1"})
    assert settings.runtime == runtime
    app = create_app(settings)
    assert app.extensions["qa"].state.loaded.wait(60)
    ready = app.test_client().get("/ready").get_json()
    assert (ready["model_id"], ready["model_revision"]) == ("acme/qa", printed["revision"])
    assert ready["backend"] == runtime


@pytest.mark.parametrize(
    ("runtime", "precision"), [("torch", "int8"), ("tensorrt", "fp32"), ("onnx", "fp16")]
)
def test_a_pair_the_service_cannot_serve_is_one_line_before_any_download(
    tmp_path, capsys, monkeypatch, runtime, precision
):
    monkeypatch.setattr(bootstrap, "fetch", lambda *a, **k: pytest.fail("fetched before checking the pair"))
    argv = [
        "--source",
        "acme/qa",
        "--out",
        str(tmp_path / "o"),
        "--runtime",
        runtime,
        "--precision",
        precision,
    ]
    assert bootstrap.main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"error: runtime/precision {runtime}/{precision} is not valid: valid are onnx/fp32, onnx/int8, openvino/auto, openvino/fp32, openvino/bf16, openvino/int8, torch/fp32"
    ]
    assert not (tmp_path / "o").exists()


def test_python_m_service_bake_is_the_bootstrap_cli():
    import runpy

    with pytest.raises(SystemExit) as exc:
        runpy.run_module("service.bake", run_name="__main__", alter_sys=True)
    assert exc.value.code == 2  # argparse: --source and --out are required


def test_verify_only(tiny_model_dir, capsys):
    assert bootstrap.main(["--verify", str(tiny_model_dir)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (
        result["answer"]["answer"]
        == bootstrap.VERIFY_CONTEXT[result["answer"]["start"] : result["answer"]["end"]]
    )


def test_a_source_that_does_not_load_is_one_clear_line(tmp_path, capsys):
    (tmp_path / "src").mkdir()
    code = bootstrap.main(["--source", str(tmp_path / "src"), "--out", str(tmp_path / "out")])
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("error: cannot load")


def test_offline_build_refuses_a_hub_id(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code = bootstrap.main(["--source", "org/not-local", "--revision", "abc", "--out", str(tmp_path / "o")])
    assert code == 1
    assert "HF_HUB_OFFLINE=1" in capsys.readouterr().err
