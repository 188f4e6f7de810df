"""`python -m bench gpu`: the GPU check, one short run on a machine with an NVIDIA GPU.

Needs a CUDA build of torch already installed and nothing from the network: it generates the
DistilBERT-base-shaped random model itself (bench/fake_model.py), serves it through the real
service (`python -m service`: gunicorn, Flask, torch backend, DEVICE=cuda, fp16) and measures

* p50/p99 of POST /predict at ~25, ~380 and ~2,800 tokens, batching off and on, interleaved with
  a raw `model(**inputs)` forward pass on the same windows in this process (inputs already on
  the device, synchronised), so the service's cost over the bare model is in the same run;
* throughput and p99 at 1, 4 and 16 concurrent clients (~380 tokens), batching on vs off;
* fp16 span agreement with fp32 on the golden cases (tests/service/golden_qa_4x.json);
* process start -> first answer, and GPU memory (nvidia-smi per process, torch's peak here).

It writes gpu.json and gpu.md (a short table) under --out and prints the table. Without CUDA it
stops at once with one line. `--device cpu --quick` runs every step on the CPU with a tiny
model (fp16 on CPU kernels stands in for the GPU's), to check the script itself.
"""

from __future__ import annotations

import argparse
import inspect
import json
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench.cli_common import CliError
from bench.headers import timing_params
from bench.local_service import ROOT, LocalService
from bench.serving import Client, build_payloads, percentile

DEFAULT_OUT = ROOT / "bench" / "out" / "gpu"
GOLDEN = ROOT / "tests" / "service" / "golden_qa_4x.json"
CONCURRENCY = (1, 4, 16)
# The GPU targets (docs/gpu.md).
BATCH1_VS_RAW_AT_380 = 1.3
THROUGHPUT_16_VS_1 = 4.0
P99_16_VS_BATCH1 = 3.0
FP16_AGREEMENT = 0.95


@dataclass(frozen=True)
class Plan:
    preset: str
    samples: tuple[int, int, int]  # latency requests per size, in bench.serving.TARGETS order
    burst_s: float  # each throughput measurement
    rounds: int  # throughput rounds, modes alternating
    starts: int  # fresh processes timed to their first answer
    max_batch_windows: int = 32


FULL = Plan(preset="distilbert-base", samples=(200, 100, 30), burst_s=4.0, rounds=3, starts=2)
QUICK = Plan(preset="tiny", samples=(6, 4, 2), burst_s=0.5, rounds=1, starts=1, max_batch_windows=8)


def add_gpu(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "gpu", help="GPU check: latency vs raw forward, batching throughput, fp16 agreement",
        description=__doc__.split("\n\n")[0],
    )  # fmt: skip
    p.add_argument("--device", choices=("cuda", "cpu"), default="cuda", help="default cuda")
    p.add_argument("--quick", action="store_true", help="tiny model, few samples (checks the script)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR", help=f"default {DEFAULT_OUT}")
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
    t0 = time.perf_counter()
    report = run(torch, args.device, plan, args.out)
    report["wall_s"] = round(time.perf_counter() - t0, 1)
    (args.out / "gpu.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    table = render_markdown(report)
    (args.out / "gpu.md").write_text(table + "\n", encoding="utf-8")
    print(table)
    print(f"wrote {args.out / 'gpu.json'} and gpu.md in {report['wall_s']} s", file=sys.stderr)
    return 0


def _log(message: str) -> None:
    print(f"[gpu {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(torch, device: str, plan: Plan, out: Path) -> dict:
    from bench.coldstart import time_start  # noqa: PLC0415
    from bench.fake_model import make_fake_qa_model  # noqa: PLC0415
    from service.tokenization import QATokenizer  # noqa: PLC0415

    model_dir = out / f"model-{plan.preset}"
    if not (model_dir / "model.safetensors").is_file():
        _log(f"generating the {plan.preset} checkpoint")
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
        _log(f"start {i + 1}/{plan.starts}: {timing.first_answer_s:.2f} s to the first answer")

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
        latency = measure_latency(servers, raw, tokenizer, payloads, plan)
        _log("latency done")
        medium = next(p for p in payloads if p.name == "medium")
        body = json.dumps({"question": medium.question, "context": medium.context}).encode()
        throughput = measure_throughput(servers, body, plan)
        _log("throughput done")
        memory = {mode: gpu_memory_mb(s) for mode, s in servers.items()}
        memory["raw_peak_allocated_mb"] = raw.peak_mb()
    finally:
        for server in servers.values():
            server.stop()
    agreement = fp16_agreement(torch, device, out)
    _log("fp16 agreement done")
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


class RawModel:
    """The bare model in this process, on the same device and dtype as the service."""

    def __init__(self, torch, model_dir: Path, device: str, batch: int) -> None:
        from transformers import AutoModelForQuestionAnswering  # noqa: PLC0415

        self.torch, self.batch = torch, batch
        self.device = torch.device(device)
        self.model = AutoModelForQuestionAnswering.from_pretrained(
            str(model_dir), local_files_only=True
        ).eval()
        if device == "cuda":
            self.model.to(self.device, dtype=torch.float16)

    def inputs(self, arrays: dict) -> dict:
        return {k: self.torch.from_numpy(v).to(self.device) for k, v in arrays.items()}

    def ms(self, tensors: dict) -> float:
        """One request's windows in chunks of MAX_BATCH_WINDOWS, as the service runs them."""
        sync = self.torch.cuda.synchronize if self.device.type == "cuda" else (lambda: None)
        total = tensors["input_ids"].shape[0]
        sync()
        t0 = time.perf_counter()
        with self.torch.inference_mode():
            for begin in range(0, total, self.batch):
                self.model(**{k: v[begin : begin + self.batch] for k, v in tensors.items()})
        sync()
        return (time.perf_counter() - t0) * 1000

    def peak_mb(self) -> float | None:
        if self.device.type != "cuda":
            return None
        return round(self.torch.cuda.max_memory_allocated() / 2**20, 1)


def _stats(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(statistics.median(values), 2),
        "p99": round(percentile(values, 99), 2),
        "n": len(values),
    }


def measure_latency(servers: dict, raw: RawModel, tokenizer, payloads, plan: Plan) -> dict:
    """One client at a time: each server and the raw forward pass, alternating who goes first."""
    accepted = inspect.signature(raw.model.forward).parameters
    names = tuple(n for n in ("input_ids", "attention_mask", "token_type_ids") if n in accepted)
    clients = {mode: Client(s.port) for mode, s in servers.items()}
    results = {}
    for payload, samples in zip(payloads, plan.samples, strict=True):
        body = json.dumps({"question": payload.question, "context": payload.context}).encode()
        tensors = raw.inputs(tokenizer.windows(payload.question, payload.context, names).arrays)
        times: dict[str, list[float]] = {"off": [], "on": [], "raw": []}
        sides = {
            "off": lambda body=body: clients["off"].predict(body)[0],
            "on": lambda body=body: clients["on"].predict(body)[0],
            "raw": lambda tensors=tensors: raw.ms(tensors),
        }
        for fn in sides.values():  # warm every shape on every side
            fn(), fn()
        for i in range(samples):
            order = list(sides) if i % 2 == 0 else list(reversed(sides))
            for side in order:
                times[side].append(sides[side]())
        results[payload.name] = {
            "tokens": payload.tokens,
            "windows": payload.windows,
            **{f"{side}_ms": _stats(v) for side, v in times.items()},
            "off_vs_raw_p50": round(statistics.median(times["off"]) / statistics.median(times["raw"]), 2),
        }
        _log(f"latency {payload.name}: {results[payload.name]}")
    for client in clients.values():
        client.close()
    return results


def burst(port: int, body: bytes, clients: int, seconds: float) -> tuple[list[float], list[int], float]:
    """`clients` closed-loop clients for `seconds`: latencies, batch sizes, elapsed seconds."""
    latencies: list[float] = []
    sizes: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client() -> None:
        conn = Client(port)
        start.wait()
        mine, mine_sizes = [], []
        while time.perf_counter() < deadline[0]:
            status, headers, _, elapsed = conn.request("POST", "/predict", body)
            if status != 200:
                raise RuntimeError(f"HTTP {status} under load")
            mine.append(elapsed)
            mine_sizes.append(int(timing_params(headers.get("server-timing"), "batch").get("size", 1)))
        conn.close()
        with lock:
            latencies.extend(mine)
            sizes.extend(mine_sizes)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    deadline[0] = time.perf_counter() + seconds
    t0 = time.perf_counter()
    start.wait()
    for thread in threads:
        thread.join()
    return latencies, sizes, time.perf_counter() - t0


def measure_throughput(servers: dict, body: bytes, plan: Plan) -> dict:
    runs = {(mode, c): ([], [], 0.0) for mode in servers for c in CONCURRENCY}
    for round_no in range(plan.rounds):
        for clients in CONCURRENCY:
            modes = ("on", "off") if round_no % 2 == 0 else ("off", "on")
            for mode in modes:
                lat, sizes, elapsed = burst(servers[mode].port, body, clients, plan.burst_s)
                old = runs[mode, clients]
                runs[mode, clients] = (old[0] + lat, old[1] + sizes, old[2] + elapsed)
    result = {}
    for (mode, clients), (lat, sizes, elapsed) in runs.items():
        result[f"{mode}_c{clients}"] = {
            "requests_per_s": round(len(lat) / elapsed, 1),
            **_stats(lat),
            "mean_batch_size": round(statistics.mean(sizes), 2),
        }
        _log(f"throughput {mode} c{clients}: {result[f'{mode}_c{clients}']}")
    return result


def fp16_agreement(torch, device: str, out: Path) -> dict:
    """Share of golden cases whose spans (answer, start, end, every top_k) fp16 gives as fp32 does."""
    from bench.fake_model import make_fake_qa_model  # noqa: PLC0415
    from service.backends.torch_backend import TorchBackend  # noqa: PLC0415
    from service.model import QAModel  # noqa: PLC0415
    from service.spans import DecodeOptions  # noqa: PLC0415
    from service.tokenization import QATokenizer, uses_token_type_ids  # noqa: PLC0415

    def load(model_dir: Path, placement) -> QAModel:
        backend = TorchBackend(model_dir, num_threads=torch.get_num_threads(), placement=placement)
        tokenizer = QATokenizer(model_dir)
        use_types = uses_token_type_ids(model_dir, tokenizer, backend.input_names)
        return QAModel(tokenizer, backend, use_token_type_ids=use_types, max_question_tokens=200)

    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    fp32 = (torch.device("cpu"), torch.float32)
    fp16 = (torch.device(device), torch.float16)  # on cpu: fp16 CPU kernels stand in for the GPU
    agree = total = 0
    mismatches = []
    for entry in golden["models"]:
        model_dir = out / f"golden-{entry['arch']}"
        if not (model_dir / "config.json").is_file():
            make_fake_qa_model(model_dir, preset=entry["preset"], arch=entry["arch"], seed=entry["seed"])
        reference, half = load(model_dir, fp32), load(model_dir, fp16)
        for case in entry["cases"]:
            options = DecodeOptions(**case["options"])
            spans = [
                [
                    (a.answer, a.start, a.end)
                    for a in m.predict(case["question"], case["context"], options).answers
                ]
                for m in (reference, half)
            ]
            total += 1
            if spans[0] == spans[1]:
                agree += 1
            else:
                mismatches.append(f"{entry['arch']}/{case['id']}")
    return {"cases": total, "agree": agree, "share": round(agree / total, 3), "mismatches": mismatches}


def gpu_memory_mb(server: LocalService) -> float | None:
    """GPU memory the server's processes hold, from nvidia-smi (None without one)."""
    try:
        listing = subprocess.run(
            ["nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    pids = {server.process.pid} if server.process else set()
    children = (
        Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children") if server.process else None
    )
    if children is not None and children.exists():
        pids |= {int(p) for p in children.read_text().split()}
    used = [
        float(mb)
        for pid, mb in (line.split(",") for line in listing.splitlines() if "," in line)
        if int(pid) in pids
    ]
    return sum(used) if used else None


def device_name(torch, device: str) -> str:
    if device == "cuda":
        return torch.cuda.get_device_name(0)
    from bench.serving import cpu_description  # noqa: PLC0415

    return f"CPU: {cpu_description().get('Model name', '?')}"


def check_targets(report: dict) -> dict:
    medium = report["latency"]["medium"]
    thr = report["throughput"]
    checks = {
        "batch-1 p50 / raw forward p50 at ~380 tokens": (
            medium["off_vs_raw_p50"],
            BATCH1_VS_RAW_AT_380,
            "<=",
        ),
        "batching on: throughput c16 / c1": (
            round(thr["on_c16"]["requests_per_s"] / thr["on_c1"]["requests_per_s"], 2),
            THROUGHPUT_16_VS_1,
            ">=",
        ),
        "batching on: p99 c16 / batch-1 p99 at ~380 tokens": (
            round(thr["on_c16"]["p99"] / medium["off_ms"]["p99"], 2),
            P99_16_VS_BATCH1,
            "<=",
        ),
        "fp16 spans agreeing with fp32": (report["fp16_agreement"]["share"], FP16_AGREEMENT, ">="),
    }
    return {
        name: {
            "measured": value,
            "target": f"{op} {limit}",
            "met": value <= limit if op == "<=" else value >= limit,
        }
        for name, (value, limit, op) in checks.items()
    }


def render_markdown(report: dict) -> str:
    lines = [
        f"`{report['command']}` on {report['device']} (torch {report['torch']}); "
        f"start -> first answer {report['start_to_first_answer_s']} s; GPU memory {report['memory_mb']} MB",
        "",
        "| size | tokens (windows) | raw forward p50 / p99 | batching off p50 / p99 | on p50 / p99 |",
        "|---|---|---|---|---|",
    ]
    for name, r in report["latency"].items():
        cells = [f"{r[f'{s}_ms']['p50']:.2f} / {r[f'{s}_ms']['p99']:.2f} ms" for s in ("raw", "off", "on")]
        lines.append(f"| {name} | {r['tokens']} ({r['windows']}) | " + " | ".join(cells) + " |")
    lines += ["", "| clients | off: req/s, p99 | on: req/s, p99, mean batch |", "|---|---|---|"]
    thr = report["throughput"]
    for c in CONCURRENCY:
        off, on = thr[f"off_c{c}"], thr[f"on_c{c}"]
        lines.append(
            f"| {c} | {off['requests_per_s']}, {off['p99']:.1f} ms "
            f"| {on['requests_per_s']}, {on['p99']:.1f} ms, {on['mean_batch_size']} |"
        )
    agreement = report["fp16_agreement"]
    lines += [
        "",
        f"fp16 vs fp32 spans: {agreement['agree']}/{agreement['cases']} golden cases agree",
        "",
        "| target | measured | limit | met |",
        "|---|---|---|---|",
    ]
    for name, t in report["targets"].items():
        lines.append(f"| {name} | {t['measured']} | {t['target']} | {'yes' if t['met'] else '**no**'} |")
    return "\n".join(lines)
