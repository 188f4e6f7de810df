"""Runtimes compared: torch fp32 vs ONNX Runtime fp32 vs ONNX Runtime int8, one run.

Slightly over ~300 lines: `measure` interleaves every configuration in one loop, which is the
point of the study (the shared machine's noise hits all alike); its verdict and report are in
runtimes_report.py.

    python -m bench.studies.runtimes                         # or: make bench-serving STUDY=runtimes
    python -m bench.studies.runtimes --study spinning        # ORT intra-op spinning on vs off
    python -m bench.studies.runtimes --study batching        # ORT: MAX_BATCH_WINDOWS 2 vs all windows
    python -m bench.studies.runtimes --site-packages         # also build throwaway venvs, du them

On the DistilBERT-base-shaped random model (bench/fake_model.py), baked for each runtime by
`service.bake.bootstrap` exactly as the image's builder stage does (models/distilbert-base-*), it
starts one real server per configuration (`python -m service`: gunicorn + Flask) and measures,
interleaved round by round so the shared machine's noise hits every configuration alike:

* p50/p99 of POST /predict at ~25, ~380 and ~2,800 tokens, and each runtime's raw forward pass
  on the same windows in this process (torch: `model(**inputs)`; ORT: `session.run`), so the
  request overhead (HTTP + tokenize + decode) of each is HTTP p50 - raw p50;
* process start -> first answer (bench.coldstart.time_start, fresh processes, alternating);
* each worker's peak RSS (VmHWM) after all of it;
* optionally (--site-packages) the size of each runtime image's Python packages: a throwaway
  venv per service/requirements-<runtime>.txt under /tmp, `du` of its site-packages.

Server, client, payload and timing helpers: bench/studies/common.py, shared with the serving study.
Writes runtimes.json (or <study>.json) and prints a markdown report (service/README.md).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.local_service import peak_rss_mb
from bench.models import ROOT, ensure_baked
from bench.studies.common import (
    TARGETS,
    Client,
    Payload,
    build_payloads,
    cpu_description,
    measure_starts,
    pinned,
    raw_forward,
    start_server,
    study_parser,
    summarise,
)
from bench.studies.runtimes_report import check_targets, render_markdown
from service import routes

DEFAULT_OUT = ROOT / "bench" / "out" / "runtimes"
SERVICE = ROOT / "service"


@dataclass
class Config:
    label: str
    runtime: str
    precision: str
    env: dict[str, str] = field(default_factory=dict)
    model_dir: Path | None = None
    payloads: list[Payload] = field(default_factory=list)
    raw: object = None  # torch model or an OnnxBackend, in this process
    batch: int = 2  # MAX_BATCH_WINDOWS the server runs with (raw side batches the same)

    @property
    def spinning(self) -> bool:
        return self.env.get("INTRA_OP_SPINNING", "1") not in ("0", "false")


def configs_for(study: str) -> list[Config]:
    if study == "runtimes":
        return [
            Config("torch fp32", "torch", "fp32"),
            Config("onnx fp32", "onnx", "fp32"),
            Config("onnx int8", "onnx", "int8"),
        ]
    if study == "spinning":
        return [
            Config("int8 spin on", "onnx", "int8", {"INTRA_OP_SPINNING": "1"}),
            Config("int8 spin off", "onnx", "int8", {"INTRA_OP_SPINNING": "0"}),
            Config("fp32 spin on", "onnx", "fp32", {"INTRA_OP_SPINNING": "1"}),
            Config("fp32 spin off", "onnx", "fp32", {"INTRA_OP_SPINNING": "0"}),
        ]
    if study == "batching":
        return [
            Config(f"{precision} batch {size}", "onnx", precision, {"MAX_BATCH_WINDOWS": str(size)})
            for precision in ("int8", "fp32")
            for size in (2, 4, 16)  # 16: all 11 windows of the ~2,800-token payload in one batch
        ]
    raise ValueError(f"unknown study {study!r}")


def _load_raw(config: Config, threads: int):
    """The runtime's bare forward pass, in this process, as the server's backend runs it."""
    from service.settings import Settings  # noqa: PLC0415

    env = {"MODEL_DIR": str(config.model_dir), "NUM_THREADS": str(threads), **config.env}
    settings = Settings.from_env(env)
    config.batch = settings.max_batch_windows
    if config.runtime == "torch":
        import torch  # noqa: PLC0415
        from transformers import AutoModelForQuestionAnswering  # noqa: PLC0415

        torch.set_num_threads(threads)
        model = AutoModelForQuestionAnswering.from_pretrained(str(config.model_dir), local_files_only=True)
        return model.eval()
    from service.qa.backends.onnx import OnnxBackend  # noqa: PLC0415

    return OnnxBackend(config.model_dir, num_threads=threads, allow_spinning=settings.intra_op_spinning)


def raw_ms(config: Config, arrays: dict) -> float:
    if config.runtime == "torch":
        import torch  # noqa: PLC0415

        return raw_forward(config.raw, torch, arrays, config.batch)
    total = arrays["input_ids"].shape[0]
    t0 = time.perf_counter()
    for begin in range(0, total, config.batch):
        config.raw({k: v[begin : begin + config.batch] for k, v in arrays.items()})
    return (time.perf_counter() - t0) * 1000


def measure(args: argparse.Namespace, configs: list[Config], threads: int) -> dict:  # noqa: PLR0912
    from service.qa.tokenization import QATokenizer  # noqa: PLC0415

    names = ("input_ids", "attention_mask")
    tokenizer = QATokenizer(configs[0].model_dir)
    samples = dict(zip(TARGETS, args.samples, strict=True))
    base_env = {"NUM_THREADS": str(threads), "CONCURRENCY": "1"}

    # 1. Fresh starts, alternating between configurations.
    starts: dict[str, list[dict]] = {c.label: [] for c in configs}
    for i in range(args.starts):
        for c in configs:
            out = args.out / c.label.replace(" ", "-")
            out.mkdir(parents=True, exist_ok=True)
            run = measure_starts(c.model_dir, {**base_env, **c.env}, 1, out)[0]
            starts[c.label].append(run)
            print(f"start {i + 1}/{args.starts} {c.label}: {run['first_answer_s']} s", file=sys.stderr)

    # 2. One server per configuration, requests and raw passes interleaved.
    servers = {}
    try:
        for c in configs:
            c.raw = _load_raw(c, threads)
            c.payloads = build_payloads(tokenizer)
            log = args.out / c.label.replace(" ", "-") / "server.log"
            servers[c.label] = start_server(c.model_dir, {**base_env, **c.env}, log)
        clients = {label: Client(port) for label, (_, port) in servers.items()}
        health_ms: dict[str, list[float]] = {c.label: [] for c in configs}
        bodies = {
            p.name: json.dumps({"question": p.question, "context": p.context}).encode()
            for p in configs[0].payloads
        }
        arrays = {p.name: tokenizer.windows(p.question, p.context, names).arrays for p in configs[0].payloads}
        for c in configs:  # warm every side on every shape
            for p in c.payloads:
                for _ in range(2):
                    _predict(clients[c.label], bodies[p.name])
                    raw_ms(c, arrays[p.name])
        rounds = max(samples.values())
        for round_no in range(rounds):
            order = configs[round_no % len(configs) :] + configs[: round_no % len(configs)]
            for index, name in enumerate(TARGETS):
                if round_no >= samples[name]:
                    continue
                for c in order:
                    p = c.payloads[index]
                    sides = ("http", "raw") if round_no % 2 == 0 else ("raw", "http")
                    for side in sides:
                        # Idle gaps: spinning threads of the previous run must not steal the vCPUs.
                        time.sleep(args.gap_ms / 1000)
                        if side == "http":
                            elapsed, timing, _ = _predict(clients[c.label], bodies[p.name])
                            p.http_ms.append(elapsed)
                            for key, value in timing.items():
                                p.server_ms.setdefault(key, []).append(value)
                        else:
                            p.raw_batched_ms.append(raw_ms(c, arrays[p.name]))
                if name == "small":  # the HTTP hop alone: an idle GET /health on the same connection
                    time.sleep(args.gap_ms / 1000)
                    health_ms[c.label].append(_get_ms(clients[c.label], routes.HEALTH))
            if round_no % 5 == 4:
                print(f"round {round_no + 1}/{rounds}", file=sys.stderr)
        rss = {label: peak_rss_mb(process.pid) for label, (process, _) in servers.items()}
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait(30)

    results = {}
    for c in configs:
        first = [s["first_answer_s"] for s in starts[c.label]]
        results[c.label] = {
            "runtime": c.runtime,
            "precision": c.precision,
            "env": c.env,
            "max_batch_windows": c.batch,
            "model_file_mb": round(_model_file(c.model_dir).stat().st_size / 2**20, 1),
            "payloads": {p.name: summarise(p) for p in c.payloads},
            "starts": starts[c.label],
            "start_s_median": round(statistics.median(first), 3) if first else None,
            "start_peak_rss_mb_median": round(statistics.median(s["peak_rss_mb"] for s in starts[c.label]), 1)
            if first
            else None,
            "peak_rss_mb": {k: round(v, 1) for k, v in rss[c.label].items()},
            "health_round_trip_ms_p50": round(statistics.median(health_ms[c.label]), 2),
        }
    return results


def _predict(client: Client, body: bytes):
    """Client.predict; reconnects once if the server closed the kept-alive connection (its
    65 s keep-alive can run out while the other configurations are measured)."""
    try:
        return client.predict(body)
    except ConnectionError:  # also BrokenPipeError, ConnectionResetError
        client.close()
        return client.predict(body)


def _get_ms(client: Client, path: str) -> float:
    try:
        return client.request("GET", path)[3]
    except ConnectionError:
        client.close()
        return client.request("GET", path)[3]


def _model_file(model_dir: Path) -> Path:
    manifest = json.loads((model_dir / "service_manifest.json").read_text(encoding="utf-8"))
    return model_dir / manifest["model_file"]


def site_packages_mb(runtime: str, work: Path) -> dict:
    """Build a throwaway venv from service/requirements-<runtime>.txt (+ torch), du site-packages."""
    venv = work / f"site-{runtime}"
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    constraints = ["-c", str(SERVICE / "constraints.txt")]
    if runtime == "torch":  # as the Dockerfile: torch first (CPU wheel), then the rest
        subprocess.run([*pip, pinned("torch")], check=True)
    subprocess.run([*pip, "-r", str(SERVICE / f"requirements-{runtime}.txt"), *constraints], check=True)
    site = next((venv / "lib").glob("python3*/site-packages"))
    if runtime == "openvino":  # what the image's deps-openvino stage deletes
        for line in (SERVICE / "openvino-unused.txt").read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                for path in (site / "openvino" / "libs").glob(line.strip()):
                    path.unlink()
    # pip and setuptools come with every venv and are not the runtime's: measured apart.
    du = subprocess.run(["du", "-sm", str(site)], check=True, capture_output=True, text=True).stdout
    total = int(du.split()[0])
    tooling = sum(
        _du_mb(p)
        for p in site.iterdir()
        if p.name.split("-")[0] in ("pip", "setuptools", "_distutils_hack", "distutils-precedence.pth")
    )
    freeze = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "freeze"], check=True, capture_output=True, text=True
    ).stdout.split()
    biggest = sorted(((_du_mb(p), p.name) for p in site.iterdir()), reverse=True)[:6]
    return {
        "site_packages_mb": total,
        "without_pip_mb": total - tooling,
        "packages": freeze,
        "largest": [f"{name} {mb} MB" for mb, name in biggest],
    }


def _du_mb(path: Path) -> int:
    du = subprocess.run(["du", "-sm", str(path)], check=True, capture_output=True, text=True)
    return int(du.stdout.split()[0])


def main(argv: list[str] | None = None) -> int:
    from service.cpus import available_cpus  # noqa: PLC0415

    argv = sys.argv[1:] if argv is None else argv
    parser = study_parser(
        "python -m bench.studies.runtimes", __doc__, samples=[100, 30, 10], starts=5, out=DEFAULT_OUT
    )
    parser.add_argument("--study", choices=("runtimes", "spinning", "batching"), default="runtimes")
    parser.add_argument("--site-packages", action="store_true", help="also measure the images' packages")
    args = parser.parse_args(argv)
    if len(args.samples) != len(TARGETS):
        parser.error("--samples takes three numbers: small,medium,large")
    args.out.mkdir(parents=True, exist_ok=True)
    threads = args.threads or available_cpus()
    configs = configs_for(args.study)
    for c in configs:
        c.model_dir = ensure_baked("distilbert-base", c.runtime, c.precision)
    sizes = None
    if args.site_packages:
        sizes = {rt: site_packages_mb(rt, Path(tempfile.gettempdir())) for rt in ("onnx", "torch")}
    results = measure(args, configs, threads)
    result = {
        "command": "python -m bench.studies.runtimes " + " ".join(argv),
        "study": args.study,
        "threads": threads,
        "cpu": cpu_description(),
        "configs": results,
        "site_packages": sizes,
        "targets": check_targets(results, sizes) if args.study == "runtimes" else None,
    }
    (args.out / f"{args.study}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(render_markdown(result))
    print(f"wrote {args.out / (args.study + '.json')}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
