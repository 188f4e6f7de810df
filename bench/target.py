"""What a benchmark measured: the service's runtime, precision and model, and the CPU it ran on.

Every report, summary and plot carries this, so numbers are never read without knowing whether
they are ONNX or torch, fp32 or int8, and on which CPU. The runtime and precision come from the
service's own `GET /ready`; the CPU from /proc/cpuinfo when the service runs on this machine
(a local URL), else "unknown" (a remote instance's CPU is not visible to the client).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import requests

from qaclient.urls import is_local, route_url
from service import routes

# /proc/cpuinfo flags worth naming for inference: wide vectors, int8 and bf16 dot products.
_FLAGS = (
    ("avx512f", "AVX-512"),
    ("avx512_vnni", "VNNI"),
    ("avx_vnni", "AVX-VNNI"),
    ("avx512_bf16", "AVX512_BF16"),
    ("amx_tile", "AMX"),
)


def cpu_description(cpuinfo: str) -> str:
    """`AMD EPYC 9B14 (2 CPUs; AVX-512, VNNI, AVX512_BF16; no AMX)` from /proc/cpuinfo text."""
    model, flags, count = "", set(), 0
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "processor":
            count += 1
        elif key == "model name" and not model:
            model = value.strip()
        elif key == "flags" and not flags:
            flags = set(value.split())
    if not model:
        return "unknown"
    named = [label for flag, label in _FLAGS if flag in flags]
    missing = [label for flag, label in _FLAGS if flag not in flags and label in ("AVX-512", "VNNI", "AMX")]
    parts = [f"{count} CPUs"] if count else []
    parts += [", ".join(named)] if named else []
    parts += ["no " + ", ".join(missing)] if missing else []
    detail = "; ".join(parts)
    return f"{model} ({detail})" if detail else model


def local_cpu() -> str:
    try:
        return cpu_description(Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return "unknown"


def describe(url: str, headers: dict[str, str] | None = None, timeout_s: float = 5.0) -> dict[str, str]:
    """{'runtime', 'precision', 'model', 'cpu'} of the service at `url` (any path on it)."""
    ready_url = route_url(url, routes.READY)
    info: dict[str, str] = {"runtime": "unknown", "precision": "unknown", "model": "unknown"}
    try:
        body = requests.get(ready_url, headers=headers or {}, timeout=timeout_s).json()
    except (requests.RequestException, ValueError):
        body = {}
    if isinstance(body, dict):
        info["runtime"] = str(body.get("backend") or "unknown")
        info["precision"] = str(body.get("precision") or "unknown")
        if body.get("model_id"):
            info["model"] = f"{body['model_id']}@{str(body.get('model_revision', '?'))[:19]}"
    info["cpu"] = local_cpu() if is_local(url) else "unknown (remote service)"
    return info


def target_line(target: Mapping | None) -> str:
    """What was measured: runtime, precision, model and CPU (bench.target)."""
    target = target or {}
    return (
        f"Measured: runtime {target.get('runtime') or 'unknown'}, precision "
        f"{target.get('precision') or 'unknown'}, model {target.get('model') or 'unknown'}; "
        f"CPU {target.get('cpu') or 'unknown'}"
    )


def from_model_dir(model_dir: Path) -> dict[str, str]:
    """The same description for a model this machine serves, from its bake manifest."""
    from service.bake import manifest  # noqa: PLC0415 - the artifact contract, read only here

    info = {"runtime": "unknown", "precision": "unknown", "model": str(model_dir), "cpu": local_cpu()}
    try:
        baked = manifest.describe(Path(model_dir))
    except manifest.ManifestError:
        return info
    info.update(runtime=baked.runtime, precision=baked.precision)
    if baked.model_id:
        info["model"] = f"{baked.model_id}@{(baked.revision or '?')[:19]}"
    return info
