"""What a benchmark measured: the service's runtime, precision and model, and the CPU it ran on.

Every report, summary and plot carries this, so numbers are never read without knowing whether
they are ONNX or torch, fp32 or int8, and on which CPU. The runtime and precision come from the
service's own `GET /ready`; the CPU from /proc/cpuinfo when the service runs on this machine
(a local URL), else from what the instance reports in `/ready` (service/cpu_platform.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import requests

from qaclient.urls import is_local, route_url
from service import routes
from service.cpu_platform import parse_cpuinfo, this_cpu


def cpu_description(cpuinfo: str) -> str:
    """`AMD EPYC 9B14 (2 CPUs; AVX-512, VNNI, AVX512_BF16; no AMX)` from /proc/cpuinfo text."""
    return parse_cpuinfo(cpuinfo).summary()


def local_cpu() -> str:
    return this_cpu().summary()


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
    # A remote instance's CPU is only known if the service reports it (/ready's "cpu").
    reported = body.get("cpu") if isinstance(body, dict) else None
    remote = reported.get("summary") if isinstance(reported, dict) else None
    info["cpu"] = local_cpu() if is_local(url) else str(remote or "unknown (remote service)")
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
