"""`python -m bench coldstart --image IMAGE`: container start → first answer, memory, image size.

Each run starts a fresh container as the platform would (bench.containers.platform_run_argv),
times `run` → the first 200 from POST /predict, then sends the ~380-token request a few times
and reads the container cgroup's peak memory (page cache included, as the cgroup counts it) and
the gunicorn master's + worker's peak RSS (VmHWM, what bench.local_service reports locally).
Image size: total, gzip-compressed layers (what a registry stores and a node pulls), and the
layers above the base, split into the runtime's site-packages, the model files and the rest (the
service code, the user, metadata).
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

from bench import containers, startup_phases
from bench.local_service import free_port, peak_rss_mb
from service import routes

MEDIUM_REQUESTS = 5
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "config.json", "service_manifest.json")
SEED = {"question": "What am I?", "context": "Roses are red, violets are blue, sugar is sweet."}


def medium_payload(tool: str, image: str) -> dict:
    """The ~380-token request of bench.studies, tokenized with the image's own tokenizer."""
    from bench.studies.common import build_payloads  # noqa: PLC0415 - tokenizers, only here
    from service.qa.tokenization import QATokenizer  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="qa-tok-") as tmp:
        created = containers.run([tool, "create", image]).stdout.strip().splitlines()[-1]
        try:
            for name in TOKENIZER_FILES:
                containers.run([tool, "cp", f"{created}:/model/{name}", tmp], check=False)
        finally:
            containers.run([tool, "rm", created], check=False)
        payload = next(p for p in build_payloads(QATokenizer(Path(tmp))) if p.name == "medium")
    return {"question": payload.question, "context": payload.context, "tokens": payload.tokens}


def one_run(tool: str, image: str, memory_mib: int, medium: dict) -> dict:
    launched_unix = time.time()
    container = containers.start(tool, image, port=free_port(), memory_mib=memory_mib)
    try:
        seconds = containers.wait_answer(container, SEED)
        ready = requests.get(container.url + routes.READY, timeout=30)
        phases = startup_phases.split(seconds, launched_unix, ready.json()) if ready.ok else None
        body = {"question": medium["question"], "context": medium["context"]}
        for _ in range(MEDIUM_REQUESTS):
            response = requests.post(container.url + routes.PREDICT, json=body, timeout=60)
            if response.status_code != 200:
                status = f"{response.status_code} {response.text[:200]}"
                raise containers.EngineError(f"~380-token request: {status}")
        rss = peak_rss_mb(container.inspect()["State"]["Pid"])  # PID 1 is the gunicorn master
        return {
            "start_to_first_answer_s": round(seconds, 3),
            "peak_memory_mib": container.peak_memory_mib(),
            "peak_rss_mib": round(rss["master_mb"] + rss["worker_mb"], 1),
            "phases_s": phases,  # bench.startup_phases.COLUMNS, adding up to the start
        }
    finally:
        container.remove()


def _du_bytes(tool: str, image: str, *paths: str) -> dict[str, int]:
    out = containers.run(
        [
            tool,
            "run",
            "--rm",
            "--runtime",
            "runc",
            "--network=none",
            "--entrypoint",
            "du",
            image,
            "-s",
            "-b",
            *paths,
        ]
        if tool == "podman"
        else [tool, "run", "--rm", "--network=none", "--entrypoint", "du", image, "-s", "-b", *paths]
    ).stdout
    return {path: int(size) for size, path in (line.split("\t") for line in out.splitlines())}


def image_size(tool: str, image: str, base: str) -> dict:
    sizes = containers.layer_sizes(tool, image)
    base_layers = set(containers.image_layers(tool, base)) if base else set()
    above = [layer for layer in sizes if layer not in base_layers]
    site = next(iter(_du_bytes(tool, image, "/opt/venv/lib").values()))
    model = next(iter(_du_bytes(tool, image, "/model").values()))
    above_raw = sum(sizes[layer][0] for layer in above)
    mb = 1e6
    return {
        "base": base,
        "total_mb": round(sum(raw for raw, _ in sizes.values()) / mb, 1),
        "compressed_mb": round(sum(gz for _, gz in sizes.values()) / mb, 1),
        "above_base_mb": round(above_raw / mb, 1),
        "above_base_compressed_mb": round(sum(sizes[layer][1] for layer in above) / mb, 1),
        "site_packages_mb": round(site / mb, 1),
        "model_mb": round(model / mb, 1),
        "above_base_rest_mb": round((above_raw - site - model) / mb, 1),
    }


def default_base(tool: str) -> str:
    from infra.local_image import dockerfile_default, stand_in_base  # noqa: PLC0415

    real = dockerfile_default("PYTHON_IMAGE")
    return (stand_in_base(real) if tool == "podman" else None) or real


def measure(image: str, runs: int, memory_mib: int, base: str = "") -> dict:
    tool = containers.engine()
    base = base or default_base(tool)
    labels = containers.image_labels(tool, image)
    medium = medium_payload(tool, image)
    results = []
    for index in range(runs):
        results.append(one_run(tool, image, memory_mib, medium))
        print(f"run {index + 1}/{runs}: {json.dumps(results[-1])}", file=sys.stderr)
    starts = [r["start_to_first_answer_s"] for r in results]
    peaks = [r["peak_memory_mib"] for r in results if r["peak_memory_mib"] is not None]
    rss = [r["peak_rss_mib"] for r in results]
    phases = [r["phases_s"] for r in results if r["phases_s"] is not None]
    return {
        "image": image,
        "runtime": labels.get("ai.model.runtime"),
        "precision": labels.get("ai.model.precision"),
        "model": labels.get("ai.model.id"),
        "memory_limit_mib": memory_mib,
        "runs": results,
        "start_to_first_answer_s": {
            "median": round(statistics.median(starts), 3),
            "min": min(starts),
            "max": max(starts),
        },
        "peak_memory_mib_at_380_tokens": round(statistics.median(peaks), 1) if peaks else None,
        "peak_rss_mib_at_380_tokens": round(statistics.median(rss), 1),
        "phases_median_s": startup_phases.medians(phases),
        "medium_tokens": medium["tokens"],
        "size": image_size(tool, image, base),
    }


def render_markdown(result: dict) -> str:
    s, size = result["start_to_first_answer_s"], result["size"]
    peak = result["peak_memory_mib_at_380_tokens"]
    return (
        f"## Container cold start: {result['image']} ({result['runtime']} {result['precision']})\n\n"
        "| runs | start → first answer p50 | min | max | cgroup peak (~380 tokens) | processes' peak RSS "
        "| image | compressed | above base | site-packages | model | rest above base |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|\n"
        f"| {len(result['runs'])} | {s['median']:.2f} s | {s['min']:.2f} s | {s['max']:.2f} s "
        f"| {f'{peak:.0f} MiB' if peak is not None else 'n/a'} "
        f"| {result['peak_rss_mib_at_380_tokens']:.0f} MiB | {size['total_mb']} MB "
        f"| {size['compressed_mb']} MB | {size['above_base_mb']} MB | {size['site_packages_mb']} MB "
        f"| {size['model_mb']} MB | {size['above_base_rest_mb']} MB |\n\n"
        "### Where the start went\n\n"
        + startup_phases.markdown_table(
            [r["phases_s"] for r in result["runs"] if r.get("phases_s")],
            [r["start_to_first_answer_s"] for r in result["runs"]],
        )
    )
