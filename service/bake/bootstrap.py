"""Build-time model baking: fetch a pinned checkpoint, export it for a runtime, prove it serves.

    python -m service.bake --source distilbert/distilbert-base-cased-distilled-squad \\
        --revision <commit> --out /model [--runtime onnx|openvino|torch] [--precision fp32|bf16|auto|int8]
    python -m service.bake --source ./my-checkpoint --out models/qa     # local directory
    python -m service.bake --verify /model                              # load + answer once
    python -m service.bake ... --precision int8 [--accuracy-data squad-v1.1-dev|builtin|FILE]
        [--accuracy-sample N] [--accuracy-margin F1_POINTS]             # int8 + accuracy gate

Writes into OUT: config.json, tokenizer.json (a fast tokenizer: the service tokenizes with
the `tokenizers` library), tokenizer_config.json (padding side and model input names made
explicit), service_model.json (model id + the resolved commit, which /ready reports), the
weights - `model.onnx` for `--runtime onnx` (the default; exported, fused and for int8
quantised by service/bake/export.py), `model.xml` + `model.bin` for `--runtime openvino`
(service/bake/openvino_export.py: converted from that export, int8 by NNCF static quantisation
on service/bake/calibration_corpus.json), `model.safetensors` for `--runtime torch` - and
`service_manifest.json` (service/bake/manifest.py: runtime, precision, model id, revision,
max_seq_len, input names, sha256 of every file, and for int8 the accuracy gate's numbers),
which the server checks at start.
Runs at image build time so the container never downloads at start (HF_HUB_OFFLINE=1).

An int8 bake is kept only if it passes the accuracy gate (service/bake/accuracy.py): the same
checkpoint is also baked in fp32, both answer a sample of SQuAD v1.1 dev (downloaded and
sha256-checked; `--accuracy-data builtin` for the project's offline sample, chosen explicitly),
and an int8 whose F1 is more than the margin below fp32's fails the bake in one line.

The Dockerfile's model stage copies only service/bake/ and service/qa/ (tokenizer windows,
backends, span search: what the accuracy gate answers with), so app code changes do not
invalidate the model layer; `--verify` imports the whole service to load the directory
exactly as it will be served. A runtime/precision pair the service cannot serve
fails first, in one line, before anything is downloaded (the image build relies on that).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from service.bake import accuracy
from service.bake import accuracy_data as gate_data
from service.bake import manifest as manifests
from service.bake.manifest import METADATA_FILE, RUNTIMES

VERIFY_QUESTION = "What am I?"
VERIFY_CONTEXT = "Roses are red, violets are blue, sugar is sweet, and so are you."


class BootstrapError(RuntimeError):
    """Something the operator must fix; printed as one line."""


def _sha256_prefix(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def _resolve_revision(source: str, revision: str | None) -> str | None:
    """The commit a Hub revision (branch, tag or sha) points at; None for local sources."""
    if Path(source).is_dir():
        return None
    from huggingface_hub import model_info  # noqa: PLC0415 - only for Hub sources

    return model_info(source, revision=revision).sha


def fetch(source: str, revision: str | None, out: Path, model_id: str | None = None) -> dict:
    """Save tokenizer + safetensors weights + metadata of `source` into `out`."""
    import transformers  # noqa: PLC0415 - heavy; the CLI's --help and --verify do without
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer  # noqa: PLC0415

    transformers.utils.logging.disable_progress_bar()  # build logs, not progress bars
    local = Path(source).is_dir()
    if not local and os.environ.get("HF_HUB_OFFLINE") == "1":
        raise BootstrapError(
            f"HF_HUB_OFFLINE=1 but --source {source!r} is not a local directory; unset it to download"
        )
    kwargs = {} if local else {"revision": revision}
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
        model = AutoModelForQuestionAnswering.from_pretrained(source, **kwargs)
    except (OSError, ValueError) as exc:
        reason = " ".join(str(exc).split())  # one line, whatever the library wrote
        raise BootstrapError(f"cannot load {source!r}: {reason}") from exc
    if not getattr(tokenizer, "is_fast", False):
        raise BootstrapError(f"{source!r} has no fast tokenizer; the service needs tokenizer.json")

    out.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(out)
    model.save_pretrained(out, safe_serialization=True)
    if not (out / "tokenizer.json").is_file() or not (out / "model.safetensors").is_file():
        raise BootstrapError(f"saving to {out} did not produce tokenizer.json + model.safetensors")

    # Make implicit class defaults explicit: the service reads this file, not the class.
    config_path = out / "tokenizer_config.json"
    config = json.loads(config_path.read_text(encoding="utf-8")) if config_path.is_file() else {}
    config.setdefault("padding_side", tokenizer.padding_side)
    config.setdefault("model_input_names", list(tokenizer.model_input_names))
    if tokenizer.cls_token:
        config.setdefault("cls_token", tokenizer.cls_token)
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")

    resolved = _resolve_revision(source, revision)
    metadata = {
        "model_id": model_id or (Path(source).resolve().name if local else source),
        # A Hub commit sha, else the requested label, else a content hash of the weights.
        "revision": resolved or revision or f"sha256:{_sha256_prefix(out / 'model.safetensors')}",
        "source": "local" if local else "hub",
    }
    if revision and resolved and revision != resolved:
        metadata["requested_revision"] = revision
    (out / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
    return metadata


def bake(
    source: str,
    revision: str | None,
    out: Path,
    *,
    runtime: str = "onnx",
    precision: str = "fp32",
    model_id: str | None = None,
    optimize: bool = True,
    accuracy_data: str = gate_data.DEFAULT_DATA,
    accuracy_sample: int = gate_data.DEFAULT_SAMPLE,
    accuracy_margin: float = accuracy.DEFAULT_MARGIN,
) -> dict:
    """fetch() + the runtime's weights + the manifest; returns metadata and build info.

    int8 also passes the accuracy gate (service/bake/accuracy.py) on `accuracy_data` or fails.
    """
    problem = manifests.pair_problem(runtime, precision)
    if problem is not None:
        raise BootstrapError(problem)
    sample = None
    if precision == accuracy.CANDIDATE:  # the questions first: no network fails before any export
        try:
            accuracy.check_margin(accuracy_margin)
            sample = gate_data.load(accuracy_data, accuracy_sample)
        except (gate_data.AccuracyDataError, accuracy.AccuracyGateError) as exc:
            raise BootstrapError(str(exc)) from exc
    out.mkdir(parents=True, exist_ok=True)
    for stale in (
        manifests.MANIFEST_FILE,
        "model.onnx",
        "model.xml",
        "model.bin",
        *manifests.LEGACY_TORCH_WEIGHTS,
    ):
        (out / stale).unlink(missing_ok=True)  # a re-bake must not list old weights
    t0 = time.perf_counter()
    gate = None
    if runtime == "torch":
        metadata = fetch(source, revision, out, model_id)
        from service.qa.tokenization import QATokenizer  # noqa: PLC0415

        build = {"max_seq_len": QATokenizer(out).max_seq_len, "input_names": _torch_inputs(out)}
    else:
        with tempfile.TemporaryDirectory(prefix="qa-checkpoint-") as staging:
            checkpoint = Path(staging) / "checkpoint"
            metadata = fetch(source, revision, checkpoint, model_id)
            build = _export(runtime, checkpoint, out, precision, optimize)
            shutil.copy2(checkpoint / METADATA_FILE, out / METADATA_FILE)
            if sample is not None:
                reference = Path(staging) / accuracy.REFERENCE
                gate = _gate(
                    runtime,
                    checkpoint,
                    out,
                    reference=reference,
                    metadata=metadata,
                    build=build,
                    sample=sample,
                    margin=accuracy_margin,
                    optimize=optimize,
                )
    build["seconds"] = round(time.perf_counter() - t0, 1)
    manifest = manifests.write_manifest(
        out,
        runtime=runtime,
        precision=precision,
        model_id=metadata["model_id"],
        revision=metadata["revision"],
        max_seq_len=build.pop("max_seq_len"),
        input_names=build.pop("input_names"),
        build=build,
        accuracy_gate=gate,
    )
    result = {**metadata, "runtime": runtime, "precision": precision, "files": manifest.files}
    return result if gate is None else {**result, "accuracy_gate": gate}


def _export(runtime: str, checkpoint: Path, out: Path, precision: str, optimize: bool) -> dict:
    from service.bake.export import ExportError, export_onnx  # noqa: PLC0415 - torch, onnx

    try:
        if runtime == "openvino":
            from service.bake.openvino_export import export_openvino  # noqa: PLC0415

            return export_openvino(checkpoint, out, precision=precision)
        return export_onnx(checkpoint, out, precision=precision, optimize=optimize)
    except ExportError as exc:
        raise BootstrapError(str(exc)) from exc


def _gate(
    runtime: str,
    checkpoint: Path,
    candidate: Path,
    *,
    reference: Path,
    metadata: dict,
    build: dict,
    sample: gate_data.Sample,
    margin: float,
    optimize: bool,
) -> dict:
    """Bake the fp32 reference beside the int8 candidate, score both; refuse a bake that loses.

    Adds the gate's own duration (reference export + scoring) to `build`, for the manifest."""
    t0 = time.perf_counter()
    reference_build = _export(runtime, checkpoint, reference, accuracy.REFERENCE, optimize)
    for directory, precision, info in (
        (reference, accuracy.REFERENCE, reference_build),
        (candidate, accuracy.CANDIDATE, build),
    ):  # manifests so that both load exactly as the service loads them
        manifests.write_manifest(
            directory,
            runtime=runtime,
            precision=precision,
            model_id=metadata["model_id"],
            revision=metadata["revision"],
            max_seq_len=info["max_seq_len"],
            input_names=info["input_names"],
        )
    print(
        f"int8 accuracy gate: scoring fp32 and int8 on {len(sample.examples)} questions of {sample.data}",
        file=sys.stderr,
    )
    result = accuracy.run_gate(reference, candidate, sample, margin)
    if not result.passed:
        (candidate / manifests.MANIFEST_FILE).unlink()  # not servable: nothing may load it
        raise BootstrapError(result.refusal())
    print(f"int8 accuracy gate passed: {result.summary()}", file=sys.stderr)
    build["accuracy_gate_seconds"] = round(time.perf_counter() - t0, 1)
    return result.as_json()


def _torch_inputs(out: Path) -> list[str]:
    """Inputs the torch backend will pass (what QAModel.load decides), for the manifest."""
    import inspect  # noqa: PLC0415

    from transformers import AutoConfig, AutoModelForQuestionAnswering  # noqa: PLC0415

    from service.qa.tokenization import QATokenizer, uses_token_type_ids  # noqa: PLC0415

    config = AutoConfig.from_pretrained(str(out))
    model_class = AutoModelForQuestionAnswering._model_mapping[type(config)]
    params = inspect.signature(model_class.forward).parameters
    accepted = tuple(n for n in manifests.KNOWN_INPUTS if n in params)
    use_types = uses_token_type_ids(out, QATokenizer(out), accepted)
    return [n for n in accepted if n != "token_type_ids" or use_types]


def verify(out: Path) -> dict:
    """Check the manifest (every checksum), load `out` the way the service does, answer once."""
    os.environ["HF_HUB_OFFLINE"] = "1"  # what the running container has
    from service.qa.model import QAModel  # noqa: PLC0415 - needs the service package

    try:
        manifests.verify(out)
    except manifests.ManifestError as exc:
        raise BootstrapError(f"{out}: {exc}") from exc
    model = QAModel.load(out, num_threads=1)
    answer = model.predict(VERIFY_QUESTION, VERIFY_CONTEXT).best
    if VERIFY_CONTEXT[answer.start : answer.end] != answer.answer:
        raise BootstrapError(f"verification answer {answer} is not a span of the context")
    return answer.as_dict()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service.bake", description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", help="Hugging Face Hub model id or a local checkpoint directory")
    parser.add_argument("--revision", help="Hub commit sha (pin it), tag or branch")
    parser.add_argument("--out", type=Path, help="directory to write the servable model to")
    parser.add_argument("--model-id", help="label the service reports as model_id (default: the source)")
    # No argparse `choices`: a bad pair is refused by bake() in one line naming the valid pairs.
    parser.add_argument("--runtime", default="onnx", help=f"{' or '.join(RUNTIMES)} (default onnx)")
    parser.add_argument("--precision", default="fp32", help="fp32 (default), int8, bf16 or auto (openvino)")
    parser.add_argument("--no-optimize", action="store_true", help="onnx: skip the ORT graph fusions")
    # int8 only: the accuracy gate (service/bake/accuracy.py); checked in one line by bake().
    parser.add_argument(
        "--accuracy-data",
        default=gate_data.DEFAULT_DATA,
        help=f"int8: questions the accuracy gate scores, {gate_data.SQUAD_DEV} (downloaded, sha256-pinned; "
        f"the default), {gate_data.BUILTIN} (the project's small offline sample) or a SQuAD v1.1 JSON file",
    )
    parser.add_argument(
        "--accuracy-sample",
        default=str(gate_data.DEFAULT_SAMPLE),
        help=f"int8: questions drawn evenly from the data (default {gate_data.DEFAULT_SAMPLE}; 0: all)",
    )
    parser.add_argument(
        "--accuracy-margin",
        default=str(accuracy.DEFAULT_MARGIN),
        help=f"int8: F1 points int8 may lose against fp32 (default {accuracy.DEFAULT_MARGIN:g})",
    )
    parser.add_argument("--skip-verify", action="store_true", help="do not load it back")
    parser.add_argument("--verify", type=Path, metavar="DIR", help="only verify DIR, fetch nothing")
    args = parser.parse_args(argv)
    try:
        if args.verify:
            print(json.dumps({"verified": str(args.verify), "answer": verify(args.verify)}))
            return 0
        if not args.source or not args.out:
            parser.error("--source and --out are required (or --verify DIR)")
        sample_size, margin = _gate_flags(args.accuracy_sample, args.accuracy_margin)
        metadata = bake(
            args.source,
            args.revision,
            args.out,
            runtime=args.runtime,
            precision=args.precision,
            model_id=args.model_id,
            optimize=not args.no_optimize,
            accuracy_data=args.accuracy_data,
            accuracy_sample=sample_size,
            accuracy_margin=margin,
        )
        metadata["files"] = len(metadata["files"])
        result: dict = {"out": str(args.out), **metadata}
        if not args.skip_verify:
            result["answer"] = verify(args.out)
        print(json.dumps(result, ensure_ascii=False))
        return 0
    except BootstrapError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _gate_flags(sample: str, margin: str) -> tuple[int, float]:
    if not sample.strip().isascii() or not sample.strip().isdigit():
        raise BootstrapError(
            f"--accuracy-sample {sample!r} is not valid: a whole number ≥ 0 (0: every question)"
        )
    try:
        return int(sample), accuracy.parse_margin(margin)
    except accuracy.AccuracyGateError as exc:
        raise BootstrapError(str(exc)) from exc


if __name__ == "__main__":
    raise SystemExit(main())
