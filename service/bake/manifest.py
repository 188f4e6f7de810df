"""The artifact contract: what a model directory holds, in `service_manifest.json`.

The one declaration of the runtimes, the precisions and the (runtime, precision) pairs the
service can serve (the bake CLI, the backends and infra's stack settings import them from here),
of the inputs an exported graph may take, and of the files bootstrap writes.

    {
      "format": 1,
      "runtime": "onnx",                  # which backend serves it: "onnx", "openvino" or "torch"
      "precision": "int8",                # "fp32", "int8" (onnx, openvino), "auto" or "bf16" (openvino)
      "model_id": "distilbert/distilbert-base-cased-distilled-squad",
      "revision": "564e9b58...",          # Hub commit, or sha256:<weights> for a local source
      "max_seq_len": 384,                 # window length the service tokenizes to
      "input_names": ["input_ids", "attention_mask"],
      "model_file": "model.onnx",         # the weights/graph the backend loads
      "files": {"model.onnx": "sha256:...", "tokenizer.json": "sha256:...", ...},
      "build": {...},                     # informational: exporter, opset, library versions
      "accuracy_gate": {...}              # int8 only: SQuAD EM/F1 of fp32 and int8, margin, passed
    }                                     # (service/bake/accuracy.py); absent for other precisions

`describe(dir)` reads it (cheap: no hashing) and is what the loader uses to pick a backend.
`verify(dir)` also checks that every listed file is there with its checksum; the service runs
it once at start (service/settings.py), so a damaged or mismatched directory stops the process
with one line before it binds its port, not at the first request. A directory without a
manifest (`save_pretrained` output, bench/fake_model.py) is served as an unverified torch
checkpoint, as before this file existed.

Standard library only: the serving path of an ONNX image must not import torch/transformers.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST_FILE = "service_manifest.json"
# Model id + resolved Hub commit, written next to the weights; /ready reports them.
METADATA_FILE = "service_model.json"
FORMAT = 1
RUNTIMES = ("onnx", "openvino", "torch")  # onnx / openvino: no torch in the image; torch: reference + GPUs
PRECISIONS = ("fp32", "bf16", "int8")  # fixed: served exactly as named
# `auto`: decided where it runs. In a stack file, the runtime's DEFAULT_PRECISION below; in an
# openvino manifest, the fp32 IR run in bf16 or fp32, whichever a probe at each instance's
# start finds faster on its CPU (service/qa/backends/openvino_precision.py).
AUTO_PRECISION = "auto"
# Precisions each runtime can serve. onnx int8: dynamic quantisation; openvino int8: NNCF
# static; openvino bf16: bf16 execution where the CPU has it, fp32 elsewhere. torch: fp32.
SUPPORTED = {
    "onnx": ("fp32", "int8"),
    "openvino": (AUTO_PRECISION, "fp32", "bf16", "int8"),
    "torch": ("fp32",),
}
SUPPORTED_PAIRS = tuple((runtime, precision) for runtime in RUNTIMES for precision in SUPPORTED[runtime])
# What a stack's `precision: auto` bakes for each runtime: onnx and torch have one
# full-precision mode; openvino's is chosen per instance (docs/openvino.md).
DEFAULT_PRECISION = {"onnx": "fp32", "openvino": AUTO_PRECISION, "torch": "fp32"}
# The inputs extractive-QA encoders take; a graph or backend accepts a subset, in this order.
KNOWN_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
DEFAULT_MODEL_FILE = {"onnx": "model.onnx", "openvino": "model.xml", "torch": "model.safetensors"}
# What a manifest-less directory is recognised by (served as torch, unverified).
LEGACY_TORCH_WEIGHTS = ("model.safetensors", "pytorch_model.bin")
_CHUNK = 1 << 22


class ManifestError(ValueError):
    """The model directory does not match its manifest; str() is one line for the operator."""


@dataclass(frozen=True)
class Manifest:
    runtime: str
    precision: str
    model_file: str
    model_id: str | None = None
    revision: str | None = None
    max_seq_len: int | None = None
    input_names: tuple[str, ...] = ()
    files: dict[str, str] = field(default_factory=dict)
    build: dict = field(default_factory=dict)
    accuracy_gate: dict | None = None  # int8: the gate's numbers (service/bake/accuracy.py)
    present: bool = True  # False: no manifest file, detected from the files (legacy torch)

    def as_json(self) -> dict:
        gate = {} if self.accuracy_gate is None else {"accuracy_gate": self.accuracy_gate}
        return {
            "format": FORMAT,
            "runtime": self.runtime,
            "precision": self.precision,
            "model_id": self.model_id,
            "revision": self.revision,
            "max_seq_len": self.max_seq_len,
            "input_names": list(self.input_names),
            "model_file": self.model_file,
            "files": dict(sorted(self.files.items())),
            "build": self.build,
            **gate,
        }


def pair_problem(runtime: str, precision: str) -> str | None:
    """None if `runtime`/`precision` can be served, else what is wrong and what is valid (one line)."""
    if (runtime, precision) in SUPPORTED_PAIRS:
        return None
    valid = ", ".join(f"{r}/{p}" for r, p in SUPPORTED_PAIRS)
    return f"runtime/precision {runtime}/{precision} is not valid: valid are {valid}"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return "sha256:" + digest.hexdigest()


# (resolved path, size, mtime_ns) -> checksum. `python -m service` reads the settings twice
# in the master and the worker inherits them through fork: hash each file once per process tree.
_checksums: dict[tuple[str, int, int], str] = {}


def cached_checksum(path: Path) -> str:
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _checksums:
        _checksums[key] = sha256_file(path)
    return _checksums[key]


def write_manifest(
    model_dir: Path,
    *,
    runtime: str,
    precision: str,
    model_id: str | None,
    revision: str | None,
    max_seq_len: int | None,
    input_names: tuple[str, ...] | list[str],
    model_file: str | None = None,
    build: dict | None = None,
    accuracy_gate: dict | None = None,
) -> Manifest:
    """Checksum every file in `model_dir` (not the manifest itself) and write the manifest."""
    model_dir = Path(model_dir)
    files = {
        path.name: sha256_file(path)
        for path in sorted(model_dir.iterdir())
        if path.is_file() and path.name != MANIFEST_FILE
    }
    manifest = Manifest(
        runtime=runtime,
        precision=precision,
        model_file=model_file or DEFAULT_MODEL_FILE[runtime],
        model_id=model_id,
        revision=revision,
        max_seq_len=max_seq_len,
        input_names=tuple(input_names),
        files=files,
        build=build or {},
        accuracy_gate=accuracy_gate,
    )
    _check_fields(manifest)
    if manifest.model_file not in files:
        raise ManifestError(f"{manifest.model_file} is not in {model_dir}")
    text = json.dumps(manifest.as_json(), indent=2) + "\n"
    (model_dir / MANIFEST_FILE).write_text(text, encoding="utf-8")
    return manifest


def describe(model_dir: Path) -> Manifest:
    """The manifest of `model_dir` (or what a manifest-less torch checkpoint implies); no hashing."""
    model_dir = Path(model_dir)
    path = model_dir / MANIFEST_FILE
    if not path.is_file():
        for name in LEGACY_TORCH_WEIGHTS:
            if (model_dir / name).is_file():
                return Manifest(runtime="torch", precision="fp32", model_file=name, present=False)
        raise ManifestError(
            f"no {MANIFEST_FILE} and no torch weights ({', '.join(LEGACY_TORCH_WEIGHTS)}): "
            "write the directory with `python -m service.bake`"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ManifestError(f"{MANIFEST_FILE} is not readable JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ManifestError(f"{MANIFEST_FILE} is not a JSON object")
    if data.get("format") != FORMAT:
        raise ManifestError(f"{MANIFEST_FILE} format {data.get('format')!r} is not {FORMAT}: rebuild it")
    runtime, precision = data.get("runtime"), data.get("precision")
    files = data.get("files")
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        raise ManifestError(f"{MANIFEST_FILE} has no valid 'files' table")
    names = data.get("input_names") or []
    max_seq_len = data.get("max_seq_len")
    manifest = Manifest(
        runtime=str(runtime),
        precision=str(precision),
        model_file=str(data.get("model_file") or DEFAULT_MODEL_FILE.get(str(runtime), "")),
        model_id=data.get("model_id") if isinstance(data.get("model_id"), str) else None,
        revision=data.get("revision") if isinstance(data.get("revision"), str) else None,
        max_seq_len=max_seq_len if isinstance(max_seq_len, int) else None,
        input_names=tuple(str(n) for n in names) if isinstance(names, list) else (),
        files=dict(files),
        build=data.get("build") if isinstance(data.get("build"), dict) else {},
        accuracy_gate=data.get("accuracy_gate") if isinstance(data.get("accuracy_gate"), dict) else None,
    )
    _check_fields(manifest)
    return manifest


def verify(model_dir: Path, *, checksums: bool = True) -> Manifest:
    """`describe` + every listed file present, the model file listed, checksums equal."""
    model_dir = Path(model_dir)
    manifest = describe(model_dir)
    if not manifest.present:
        return manifest
    if manifest.model_file not in manifest.files:
        raise ManifestError(f"{MANIFEST_FILE} does not list its model_file {manifest.model_file}")
    missing = [name for name in manifest.files if not (model_dir / name).is_file()]
    if missing:
        raise ManifestError(f"{', '.join(sorted(missing))} missing (listed in {MANIFEST_FILE})")
    if checksums:
        for name, expected in sorted(manifest.files.items()):
            actual = cached_checksum(model_dir / name)
            if actual != expected:
                raise ManifestError(
                    f"{name} has checksum {actual[:19]}…, {MANIFEST_FILE} says {expected[:19]}… "
                    "(damaged or replaced file: rebuild the directory with `python -m service.bake`)"
                )
    return manifest


def _check_fields(manifest: Manifest) -> None:
    if manifest.runtime not in RUNTIMES:
        raise ManifestError(
            f"runtime {manifest.runtime!r} in {MANIFEST_FILE} is unknown: this service serves "
            f"{', '.join(RUNTIMES)}"
        )
    if manifest.precision not in SUPPORTED[manifest.runtime]:
        raise ManifestError(
            f"precision {manifest.precision!r} in {MANIFEST_FILE} is not served by runtime "
            f"{manifest.runtime} (supported: {', '.join(SUPPORTED[manifest.runtime])})"
        )
    if not manifest.model_file or "/" in manifest.model_file or manifest.model_file.startswith("."):
        raise ManifestError(f"model_file {manifest.model_file!r} in {MANIFEST_FILE} is not a file name")
