"""OpenVINO backend: the IR baked by service/bake/openvino_export.py, compiled for this CPU at start.

Imports openvino and NumPy only - never torch, transformers or optimum (tests check sys.modules).

Precision is the manifest's: `auto` (the default) runs bf16 or fp32, whichever a short probe
finds faster on this instance's CPU (openvino_precision.py); `fp32` compiles with
INFERENCE_PRECISION_HINT=f32 (strict: no silent bf16 on CPUs that have it); `bf16` asks for
bf16 execution where the CPU reports BF16 in OPTIMIZATION_CAPABILITIES (AVX512_BF16 or AMX) and
otherwise compiles f32, logs it once and reports it in /ready (`execution_precision`,
`fallback`); `int8` is the statically quantised IR: its int8 region runs in int8, the rest
(layer norms, softmax, GELU) in bf16 where the CPU has it - OpenVINO's own default there, and
faster than f32 (docs/bench/openvino.md) - else f32.

Compiled blobs: with `cache_dir`, OpenVINO stores the compiled model under a key of the model,
the configuration, the CPU and its own version, and imports it on the next start instead of
compiling; another CPU or version is another key, so it compiles. Blobs are checksummed by this
module (see _drop_unverified_blobs): one whose bytes changed is deleted and the model compiled
afresh, logged, never imported.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from service.bake.manifest import AUTO_PRECISION, KNOWN_INPUTS
from service.cpu_platform import this_cpu
from service.qa.backends import openvino_precision
from service.qa.backends.openvino_precision import PrecisionChoice, Timer
from service.qa.backends.openvino_runtime import ov

log = logging.getLogger(__name__)

OUTPUTS = ("start_logits", "end_logits")
# Manifest precision -> INFERENCE_PRECISION_HINT for the layers not already int8 (bf16 only
# where the CPU has it); `auto` takes the hint of what it chose.
HINTS = {"fp32": "f32", "bf16": "bf16", "int8": "bf16", AUTO_PRECISION: None}


def cpu_has_bf16(core: ov.Core) -> bool:
    return "BF16" in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")


def compile_config(num_threads: int, hint: str, cache_dir: Path | None) -> dict[str, str]:
    config = {
        # One request's windows run as one batch on all vCPUs; one stream, no throughput mode.
        "PERFORMANCE_HINT": "LATENCY",
        "INFERENCE_NUM_THREADS": str(num_threads),
        "NUM_STREAMS": "1",
        "INFERENCE_PRECISION_HINT": hint,
    }
    if cache_dir is not None:
        config["CACHE_DIR"] = str(cache_dir)
    return config


def probe_config(hint: str) -> dict[str, str]:
    """How `precision: auto` compiles its probe: one thread, so each pass runs on the calling
    thread and is timed by its CPU time (openvino_precision); no cache, the probe is rebuilt."""
    return compile_config(openvino_precision.PROBE_THREADS, hint, None)


class OpenVinoBackend:
    name = "openvino"
    # The CPU plugin's executor owns its threads; each calling thread uses its own infer
    # request (below), so requests run from their own threads as with ONNX Runtime.
    thread_affine = False

    def __init__(
        self,
        model_dir: Path,
        *,
        num_threads: int,
        model_file: str = "model.xml",
        precision: str = "fp32",
        cache_dir: Path | None = None,
        bf16_probe: Callable[[ov.Core], bool] = cpu_has_bf16,
        precision_timer: Timer | None = None,
    ) -> None:
        """`precision_timer` replaces the timing of the `auto` probe (tests force its result)."""
        if precision not in HINTS:
            raise ValueError(f"precision {precision!r} is not served by the openvino backend")
        core = ov.Core()
        hint = HINTS[precision]
        self.fallback: str | None = None
        self.choice: PrecisionChoice | None = None
        if precision == AUTO_PRECISION:
            self.choice = openvino_precision.decide(
                core,
                probe_config,
                has_bf16=bf16_probe(core),
                timer=precision_timer,
            )
            hint = openvino_precision.CANDIDATES[self.choice.chosen]
            log.info(
                "openvino precision decided",
                extra={**self.choice.as_json(), "cpu": this_cpu().summary()},
            )
        elif hint == "bf16" and not bf16_probe(core):
            hint = "f32"
            if precision == "bf16":
                self.fallback = "bf16 requested, this CPU has no bf16 support: running fp32"
                log.warning(self.fallback, extra={"precision": precision, "execution_precision": "fp32"})
        self.precision = precision
        rest = {"f32": "fp32", "bf16": "bf16"}[hint]
        self.execution_precision = f"int8+{rest}" if precision == "int8" else rest
        t0 = time.perf_counter()
        # By path, not read_model(): on a cache hit OpenVINO then skips reading the IR too.
        path = Path(model_dir) / model_file
        self.compiled, self.cache = _compile(
            core, path, compile_config(num_threads, hint, cache_dir), cache_dir
        )
        self.load_s = time.perf_counter() - t0
        graph_inputs = [port.get_any_name() for port in self.compiled.inputs]
        unknown = [name for name in graph_inputs if name not in KNOWN_INPUTS]
        if unknown:
            raise ValueError(f"{model_file} takes inputs {unknown} the service does not provide")
        outputs = {port.get_any_name() for port in self.compiled.outputs}
        if not set(OUTPUTS) <= outputs:
            raise ValueError(f"{model_file} has outputs {sorted(outputs)}; expected {list(OUTPUTS)}")
        self.input_names = tuple(name for name in KNOWN_INPUTS if name in graph_inputs)
        self.num_threads = num_threads
        self._local = threading.local()
        log.info(
            "openvino model compiled",
            extra={
                "model_file": model_file,
                "precision": precision,
                "execution_precision": self.execution_precision,
                "inference_num_threads": num_threads,
                "load_ms": round(self.load_s * 1000, 1),
                "cache": self.cache,
                "inputs": list(self.input_names),
                "openvino": ov.get_version(),
            },
        )

    def describe(self) -> dict:
        """What /ready adds for this backend."""
        info: dict = {"execution_precision": self.execution_precision}
        if self.fallback:
            info["fallback"] = self.fallback
        if self.choice is not None:
            info["precision_choice"] = self.choice.as_json()
        return info

    def __call__(self, inputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        request = getattr(self._local, "request", None)
        if request is None:
            request = self._local.request = self.compiled.create_infer_request()
        feeds = {name: inputs[name] for name in self.input_names if name in inputs}
        if len(feeds) < len(self.input_names):  # e.g. token_type_ids the tokenizer does not send
            zeros = np.zeros_like(inputs["input_ids"])
            feeds = {name: feeds.get(name, zeros) for name in self.input_names}
        result = request.infer(feeds)
        # Copies: the request's output tensors are reused by its next call.
        return np.array(result["start_logits"]), np.array(result["end_logits"])


def _compile(core: ov.Core, path: Path, config: dict, cache_dir: Path | None):
    """(compiled model, "off" | "hit" | "miss"); blobs that fail their checksum are dropped first."""
    if cache_dir is None:
        return core.compile_model(str(path), "CPU", config), "off"
    cache_dir.mkdir(parents=True, exist_ok=True)
    known = _drop_unverified_blobs(cache_dir)
    compiled = core.compile_model(str(path), "CPU", config)
    new = {blob.name for blob in cache_dir.glob("*.blob")} - set(known)
    if new:
        _write_index(cache_dir, {**known, **{name: _sha256(cache_dir / name) for name in sorted(new)}})
    return compiled, "miss" if new else "hit"


# OpenVINO imports a blob whose bytes were changed without noticing (it checks the header,
# not the payload): a flipped byte in the weights gives wrong logits, not an error. So every
# blob is checksummed when OpenVINO writes it and checked before OpenVINO may read it.
INDEX_FILE = "service-blobs.json"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


def _drop_unverified_blobs(cache_dir: Path) -> dict[str, str]:
    try:
        index = json.loads((cache_dir / INDEX_FILE).read_text(encoding="utf-8"))
        if not isinstance(index, dict):
            index = {}
    except (OSError, ValueError):
        index = {}
    kept = {}
    for blob in sorted(cache_dir.glob("*.blob")):
        expected = index.get(blob.name)
        if expected is not None and _sha256(blob) == expected:
            kept[blob.name] = expected
            continue
        log.warning(
            "openvino cache blob failed its checksum: dropped, the model is compiled afresh",
            extra={"blob": str(blob), "recorded": expected is not None},
        )
        blob.unlink(missing_ok=True)
    if kept != index:
        _write_index(cache_dir, kept)
    return kept


def _write_index(cache_dir: Path, index: dict[str, str]) -> None:
    staging = cache_dir / f".{INDEX_FILE}.{os.getpid()}"
    staging.write_text(json.dumps(index, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    staging.replace(cache_dir / INDEX_FILE)
