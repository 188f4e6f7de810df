"""`python -m bench gpu`: the GPU check, one short run on a machine with an NVIDIA GPU.

Needs a CUDA build of torch already installed and nothing from the network: it generates the
DistilBERT-base-shaped random model itself (bench/fake_model.py), serves it through the real
service (`python -m service`: gunicorn, Flask, torch backend, DEVICE=cuda, fp16) and measures

* p50/p99 of POST /predict at ~25, ~380 and ~2,800 tokens, batching off and on, interleaved with
  a raw `model(**inputs)` forward pass on the same windows in this process (inputs already on
  the device, synchronised), so the service's cost over the bare model is in the same run;
* throughput and p99 at 1, 4 and 16 concurrent clients (~380 tokens), batching on vs off;
* fp16 span agreement with fp32 on the golden cases (tests/service/qa/golden_qa_4x.json);
* process start -> first answer, and GPU memory (nvidia-smi per process, torch's peak here).

It writes gpu.json, gpu.md (a short table) and the servers' logs under --out (six files: the
models it generates go to --work) and prints the table. Without CUDA it
stops at once with one line. `--device cpu --quick` runs every step on the CPU with a tiny
model (fp16 on CPU kernels stands in for the GPU's), to check the script itself.
The measurements are in bench/gpu_measure.py, the targets and the table in bench/gpu_report.py.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.cli_common import CliError
from bench.gpu_measure import (
    RawModel,
    fp16_agreement,
    gpu_memory_mb,
    log,
    measure_latency,
    measure_throughput,
)
from bench.gpu_report import check_targets, render_markdown
from bench.local_service import ROOT, LocalService
from bench.studies.common import build_payloads

DEFAULT_OUT = ROOT / "bench" / "out" / "gpu"
DEFAULT_WORK = ROOT / "bench" / "out" / "gpu-work"


@dataclass(frozen=True)
class Plan:
    preset: str
    samples: tuple[int, int, int]  # latency requests per size, in bench.studies.common.TARGETS order
    burst_s: float  # each throughput measurement
    rounds: int  # throughput rounds, modes alternating
    starts: int  # fresh processes timed to their first answer
    max_batch_windows: int = 32


FULL = Plan(preset="distilbert-base", samples=(200, 100, 30), burst_s=4.0, rounds=3, starts=2)
QUICK = Plan(preset="tiny", samples=(6, 4, 2), burst_s=0.5, rounds=1, starts=1, max_batch_windows=8)


def add_gpu(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "gpu",
        help="GPU check: latency vs raw forward, batching throughput, fp16 agreement",
        description=__doc__.split("\n\n")[0],
    )
    p.add_argument("--device", choices=("cuda", "cpu"), default="cuda", help="default cuda")
    p.add_argument("--quick", action="store_true", help="tiny model, few samples (checks the script)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR", help=f"default {DEFAULT_OUT}")
    p.add_argument(
        "--work",
        type=Path,
        default=DEFAULT_WORK,
        metavar="DIR",
        help=f"generated models, kept for a rerun (default {DEFAULT_WORK})",
    )
    p.set_defaults(handler=cmd_gpu)


def require_device(device: str):
    """torch, with a usable `device`: otherwise one line and exit 2, before anything is built."""
    try:
        import torch  # noqa: PLC0415 - only this command needs it
    except ImportError as exc:
        raise CliError(f"torch is not installed ({exc}); install a CUDA build of torch") from None
    if device == "cuda" and not torch.cuda.is_available():
        raise CliError(
            f"no CUDA device: torch {torch.__version__} (CUDA build: {torch.version.cuda or 'no'}) sees "
            "no GPU; run on a machine with an NVIDIA GPU, or pass --device cpu to check the script"
        )
    return torch


def cmd_gpu(args: argparse.Namespace) -> int:
    torch = require_device(args.device)
    plan = QUICK if args.quick else FULL
    args.out.mkdir(parents=True, exist_ok=True)
    args.work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    report = run(torch, args.device, plan, args.out, args.work)
    report["wall_s"] = round(time.perf_counter() - t0, 1)
    (args.out / "gpu.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    table = render_markdown(report)
    (args.out / "gpu.md").write_text(table + "\n", encoding="utf-8")
    print(table)
    print(f"wrote {args.out / 'gpu.json'} and gpu.md in {report['wall_s']} s", file=sys.stderr)
    return 0


def run(torch, device: str, plan: Plan, out: Path, work: Path) -> dict:
    from bench.coldstart import time_start  # noqa: PLC0415
    from bench.fake_model import make_fake_qa_model  # noqa: PLC0415
    from service.qa.tokenization import QATokenizer  # noqa: PLC0415

    model_dir = work / f"model-{plan.preset}"
    if not (model_dir / "model.safetensors").is_file():
        log(f"generating the {plan.preset} checkpoint")
        make_fake_qa_model(model_dir, preset=plan.preset)
    env = {
        "DEVICE": device,
        "LOG_LEVEL": "WARNING",
        "MAX_QUEUE": "64",
        "MAX_BATCH_WINDOWS": str(plan.max_batch_windows),
    }
    starts = []
    for i in range(plan.starts):
        timing = time_start(
            model_dir, {**env, "BATCHING": "0"}, log_path=out / f"start-{i}.log", timeout_s=240
        )
        starts.append(round(timing.first_answer_s, 2))
        log(f"start {i + 1}/{plan.starts}: {timing.first_answer_s:.2f} s to the first answer")

    servers = {
        mode: LocalService(
            model_dir, out / f"server-{mode}.log", {**env, "CONCURRENCY": "16", "BATCHING": flag}
        )
        for mode, flag in (("off", "0"), ("on", "1"))
    }
    for server in servers.values():
        server.start()
    try:
        for server in servers.values():
            server.wait_ready(timeout_s=240)
        tokenizer = QATokenizer(model_dir)
        payloads = build_payloads(tokenizer)
        raw = RawModel(torch, model_dir, device, plan.max_batch_windows)
        latency = measure_latency(servers, raw, tokenizer, payloads, plan.samples)
        log("latency done")
        medium = next(p for p in payloads if p.name == "medium")
        body = json.dumps({"question": medium.question, "context": medium.context}).encode()
        throughput = measure_throughput(servers, body, plan.rounds, plan.burst_s)
        log("throughput done")
        memory = {mode: gpu_memory_mb(s) for mode, s in servers.items()}
        memory["raw_peak_allocated_mb"] = raw.peak_mb()
    finally:
        for server in servers.values():
            server.stop()
    agreement = fp16_agreement(torch, device, work)
    log("fp16 agreement done")
    report = {
        "command": "python -m bench gpu"
        + (" --device cpu" if device == "cpu" else "")
        + (" --quick" if plan.preset == "tiny" else ""),
        "device": device_name(torch, device),
        "torch": torch.__version__,
        "plan": plan.__dict__,
        "start_to_first_answer_s": starts,
        "latency": latency,
        "throughput": throughput,
        "fp16_agreement": agreement,
        "memory_mb": memory,
    }
    report["targets"] = check_targets(report)
    return report


def device_name(torch, device: str) -> str:
    if device == "cuda":
        return torch.cuda.get_device_name(0)
    from bench.studies.common import cpu_description  # noqa: PLC0415

    return f"CPU: {cpu_description().get('Model name', '?')}"
