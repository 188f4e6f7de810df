"""Service settings: read once from the environment, validated at start-up.

A bad value stops the process with one line that names the variable and what is valid
(`SettingsError`), instead of a traceback from deep inside gunicorn or torch.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from service import bounds, startup
from service.bake import manifest as manifests
from service.bake.manifest import METADATA_FILE
from service.cpus import available_cpus
from service.region import REGION_ENV, REGION_PATTERN

# MODEL_ID / MODEL_REVISION override what service/bake/bootstrap.py wrote into METADATA_FILE.
REQUIRED_MODEL_FILES = ("config.json", "tokenizer.json")
LOG_LEVELS = bounds.LOG_LEVELS
DEVICES = ("auto", "cpu", "cuda")
# MAX_BATCH_WINDOWS by runtime: the smallest batch that was as fast as bigger ones on CPU, for
# the least activation memory (measurements and the command: service/README.md, "Speed and memory").
DEFAULT_MAX_BATCH_WINDOWS = {"torch": 2, "onnx": 2, "openvino": 2}
# ONNX Runtime intra-op spinning (session.intra_op.allow_spinning): on, as it was faster at every
# request size under the real server (service/README.md, "Intra-op spinning").
DEFAULT_INTRA_OP_SPINNING = True
# Dynamic batching (service/batching.py). Off unless asked for: a GPU stack turns it on; on
# this project's 2-vCPU CPU benchmark it did not pay (service/README.md, "Dynamic batching").
DEFAULT_BATCHING = False
# Longest a queued request waits for a request that is still tokenizing to join its batch.
DEFAULT_BATCH_MAX_WAIT_MS = 5.0
# Hash every file MODEL_DIR's manifest lists at start: on for a directory handed to the service;
# the image turns it off (its build checked the same checksums and its digest pins the layer;
# docs/cold-starts.md has the measured cost).
DEFAULT_VERIFY_CHECKSUMS = True


class SettingsError(ValueError):
    """A configuration value is invalid; str(err) is the one line to show the operator."""


@dataclass(frozen=True)
class Settings:
    port: int = 8080
    model_dir: Path | None = None
    model_id: str = "unknown"
    model_revision: str = "unknown"
    # Requests that run the model at the same time (model slots). Gunicorn gets more threads
    # than this so overflow requests are answered (503) instead of waiting unseen in its queue.
    concurrency: int = 1
    num_threads: int = field(default_factory=available_cpus)
    max_context_chars: int = 50_000
    max_question_tokens: int = 64
    max_body_bytes: int = 1_048_576
    # Requests allowed to wait for a model slot; beyond that: 503 + Retry-After at once.
    max_queue: int = 4
    # A waiting request gives up (503) after this long rather than hang.
    queue_timeout_s: float = 30.0
    # Windows of one request per forward pass. Up to this many run as one padded batch;
    # longer contexts go in chunks of it (bounds activation memory). Default by runtime:
    # DEFAULT_MAX_BATCH_WINDOWS.
    max_batch_windows: int = 2
    # Windows one request may need (the context's token length, in effect); more: 413.
    max_windows: int = bounds.DEFAULT_MAX_WINDOWS
    log_level: str = "INFO"
    # From MODEL_DIR's manifest (service/bake/manifest.py); a directory without one is torch/fp32.
    runtime: str = "torch"
    precision: str = "fp32"
    # int8: the bake's accuracy gate numbers (service/bake/accuracy.py), reported by /ready.
    accuracy_gate: dict | None = None
    device: str = "auto"  # torch only: auto = CUDA + fp16 when a GPU is present
    intra_op_spinning: bool = DEFAULT_INTRA_OP_SPINNING  # onnx only
    # Dynamic batching: requests' windows share forward passes of at most max_batch_windows
    # rows; `concurrency` requests are admitted at once, forward passes run one at a time.
    batching: bool = DEFAULT_BATCHING
    batch_max_wait_ms: float = DEFAULT_BATCH_MAX_WAIT_MS
    # The region the stack deployed this instance to (service/region.py); "" when run locally.
    region: str = ""

    @property
    def inference_threads(self) -> int:
        """Threads that call the model: one per slot, or one for the batcher's forward passes."""
        return 1 if self.batching else self.concurrency

    # openvino only: where compiled blobs are kept between starts (None: compile every start).
    openvino_cache_dir: Path | None = None

    @property
    def gunicorn_threads(self) -> int:
        """Model slots + queue + spare threads that answer probes and 503s while all are busy."""
        return self.concurrency + self.max_queue + 2

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, require_model: bool = True) -> Settings:
        env = os.environ if environ is None else environ
        model_dir = _model_dir(env, require_model)
        manifest = _manifest(env, model_dir)
        meta = _read_metadata(model_dir)
        runtime = manifest.runtime if manifest else "torch"
        device = _choice(env, "DEVICE", "auto", tuple(d.upper() for d in DEVICES)).lower()
        if device == "cuda" and runtime != "torch":
            raise SettingsError(f"DEVICE='cuda' is not valid: MODEL_DIR holds a {runtime} model (CPU only)")
        return cls(
            port=_int(env, "PORT", 8080, 1, 65535),
            model_dir=model_dir,
            model_id=_label(env, "MODEL_ID")
            or (manifest.model_id if manifest else None)
            or meta.get("model_id")
            or _dir_label(model_dir),
            model_revision=_label(env, "MODEL_REVISION")
            or (manifest.revision if manifest else None)
            or meta.get("revision")
            or "unknown",
            concurrency=_int(env, "CONCURRENCY", 1, *bounds.CONCURRENCY),
            num_threads=_int(env, "NUM_THREADS", available_cpus(), *bounds.NUM_THREADS),
            max_context_chars=_int(env, "MAX_CONTEXT_CHARS", 50_000, *bounds.MAX_CONTEXT_CHARS),
            max_question_tokens=_int(env, "MAX_QUESTION_TOKENS", 64, 1, 4096),
            max_body_bytes=_int(env, "MAX_BODY_BYTES", 1_048_576, 1024, 1 << 30),
            max_queue=_int(env, "MAX_QUEUE", 4, 0, 4096),
            queue_timeout_s=_float(env, "QUEUE_TIMEOUT_S", 30.0, 0.001, 3600.0),
            max_batch_windows=_int(
                env, "MAX_BATCH_WINDOWS", DEFAULT_MAX_BATCH_WINDOWS[runtime], *bounds.MAX_BATCH_WINDOWS
            ),
            max_windows=_int(env, "MAX_WINDOWS", bounds.DEFAULT_MAX_WINDOWS, *bounds.MAX_WINDOWS),
            log_level=_choice(env, "LOG_LEVEL", "INFO", LOG_LEVELS),
            runtime=runtime,
            precision=manifest.precision if manifest else "fp32",
            accuracy_gate=manifest.accuracy_gate if manifest else None,
            device=device,
            intra_op_spinning=_bool(env, "INTRA_OP_SPINNING", DEFAULT_INTRA_OP_SPINNING),
            batching=_bool(env, "BATCHING", DEFAULT_BATCHING),
            batch_max_wait_ms=_float(
                env, "BATCH_MAX_WAIT_MS", DEFAULT_BATCH_MAX_WAIT_MS, *bounds.BATCH_MAX_WAIT_MS, unit="ms"
            ),
            openvino_cache_dir=_cache_dir(env),
            region=_region(env),
        )


def _raw(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = _raw(env, name)
    if raw is None:
        return default
    try:
        value = int(raw, 10)
    except ValueError:
        raise SettingsError(
            f"{name}={raw!r} is not valid: expected a whole number from {low} to {high}"
        ) from None
    if not low <= value <= high:
        raise SettingsError(f"{name}={raw!r} is not valid: expected a number from {low} to {high}")
    return value


def _float(
    env: Mapping[str, str], name: str, default: float, low: float, high: float, *, unit: str = "seconds"
) -> float:
    raw = _raw(env, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(
            f"{name}={raw!r} is not valid: expected a number of {unit} from {low:g} to {high:g}"
        ) from None
    if not low <= value <= high:  # also rejects nan
        raise SettingsError(
            f"{name}={raw!r} is not valid: expected a number of {unit} from {low:g} to {high:g}"
        )
    return value


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = _raw(env, name)
    if raw is None:
        return default
    if raw.upper() not in choices:
        raise SettingsError(f"{name}={raw!r} is not valid: expected one of {', '.join(choices)}")
    return raw.upper()


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = _raw(env, name)
    if raw is None:
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}={raw!r} is not valid: expected 1 or 0 (true or false)")


def _manifest(env: Mapping[str, str], model_dir: Path | None) -> manifests.Manifest | None:
    """MODEL_DIR's manifest, its files present and (VERIFY_CHECKSUMS) checksummed: a mismatch
    stops the start here."""
    if model_dir is None:
        return None
    checksums = _bool(env, "VERIFY_CHECKSUMS", DEFAULT_VERIFY_CHECKSUMS)
    t0 = time.perf_counter()
    try:
        return manifests.verify(model_dir, checksums=checksums)
    except manifests.ManifestError as exc:
        raise SettingsError(f"MODEL_DIR={_raw(env, 'MODEL_DIR')!r} is not valid: {exc}") from None
    finally:
        startup.record_work("checksums" if checksums else "manifest", time.perf_counter() - t0)


def _label(env: Mapping[str, str], name: str) -> str | None:
    raw = _raw(env, name)
    if raw is not None and (len(raw) > bounds.LABEL_MAX_CHARS or not raw.isprintable()):
        raise SettingsError(
            f"{name} is not valid: expected printable text of at most {bounds.LABEL_MAX_CHARS} chars"
        )
    return raw


def _region(env: Mapping[str, str]) -> str:
    raw = _raw(env, REGION_ENV)
    if raw is not None and not re.fullmatch(REGION_PATTERN, raw):
        raise SettingsError(
            f"{REGION_ENV}={raw!r} is not valid: expected a region id such as 'us-central1'"
            " (lowercase letters, digits, hyphens)"
        )
    return raw or ""


def _cache_dir(env: Mapping[str, str]) -> Path | None:
    raw = _raw(env, "OPENVINO_CACHE_DIR")
    if raw is None:
        return None
    path = Path(raw)
    if not path.is_absolute() or (path.exists() and not path.is_dir()):
        raise SettingsError(
            f"OPENVINO_CACHE_DIR={raw!r} is not valid: expected an absolute directory path "
            "(created if missing)"
        )
    return path


def _model_dir(env: Mapping[str, str], required: bool) -> Path | None:
    raw = _raw(env, "MODEL_DIR")
    if raw is None:
        if required:
            raise SettingsError(
                "MODEL_DIR is not set: expected a directory with config.json, tokenizer.json and "
                "weights (create one with `python -m service.bake --source ID --out DIR`)"
            )
        return None
    path = Path(raw)
    if not path.is_dir():
        raise SettingsError(f"MODEL_DIR={raw!r} is not valid: expected an existing directory")
    missing = [name for name in REQUIRED_MODEL_FILES if not (path / name).is_file()]
    if missing:
        raise SettingsError(
            f"MODEL_DIR={raw!r} is not valid: {', '.join(missing)} missing (a directory written "
            "by `python -m service.bake` or `save_pretrained` with a fast tokenizer)"
        )
    return path


def _read_metadata(model_dir: Path | None) -> dict[str, str]:
    if model_dir is None:
        return {}
    try:
        data = json.loads((model_dir / METADATA_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: str(v) for k, v in data.items() if isinstance(v, str | int) and k}


def _dir_label(model_dir: Path | None) -> str:
    return model_dir.resolve().name if model_dir is not None else "unknown"
