"""The measurements of `python -m bench gpu` (bench/gpu.py runs them in order).

Each one alternates its sides (servers, the raw model) so drift on the machine hits all alike.
`burst` (closed-loop clients for a while) is shared with bench/studies/batching.py.
"""

from __future__ import annotations

import inspect
import json
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.headers import timing_params
from bench.local_service import ROOT, LocalService
from bench.studies.common import Client
from qaclient.stats import percentile
from service import routes

GOLDEN = ROOT / "tests" / "service" / "qa" / "golden_qa_4x.json"
CONCURRENCY = (1, 4, 16)


def log(message: str) -> None:
    print(f"[gpu {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


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


def measure_latency(servers: dict, raw: RawModel, tokenizer, payloads, samples: tuple[int, ...]) -> dict:
    """One client at a time: each server and the raw forward pass, alternating who goes first."""
    accepted = inspect.signature(raw.model.forward).parameters
    names = tuple(n for n in ("input_ids", "attention_mask", "token_type_ids") if n in accepted)
    clients = {mode: Client(s.port) for mode, s in servers.items()}
    results = {}
    for payload, count in zip(payloads, samples, strict=True):
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
        for i in range(count):
            order = list(sides) if i % 2 == 0 else list(reversed(sides))
            for side in order:
                times[side].append(sides[side]())
        results[payload.name] = {
            "tokens": payload.tokens,
            "windows": payload.windows,
            **{f"{side}_ms": _stats(v) for side, v in times.items()},
            "off_vs_raw_p50": round(statistics.median(times["off"]) / statistics.median(times["raw"]), 2),
        }
        log(f"latency {payload.name}: {results[payload.name]}")
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
            status, headers, _, elapsed = conn.request("POST", routes.PREDICT, body)
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


def measure_throughput(servers: dict, body: bytes, rounds: int, burst_s: float) -> dict:
    runs = {(mode, c): ([], [], 0.0) for mode in servers for c in CONCURRENCY}
    for round_no in range(rounds):
        for clients in CONCURRENCY:
            modes = ("on", "off") if round_no % 2 == 0 else ("off", "on")
            for mode in modes:
                lat, sizes, elapsed = burst(servers[mode].port, body, clients, burst_s)
                old = runs[mode, clients]
                runs[mode, clients] = (old[0] + lat, old[1] + sizes, old[2] + elapsed)
    result = {}
    for (mode, clients), (lat, sizes, elapsed) in runs.items():
        result[f"{mode}_c{clients}"] = {
            "requests_per_s": round(len(lat) / elapsed, 1),
            **_stats(lat),
            "mean_batch_size": round(statistics.mean(sizes), 2),
        }
        log(f"throughput {mode} c{clients}: {result[f'{mode}_c{clients}']}")
    return result


def fp16_agreement(torch, device: str, out: Path) -> dict:
    """Share of golden cases whose spans (answer, start, end, every top_k) fp16 gives as fp32 does."""
    from bench.fake_model import make_fake_qa_model  # noqa: PLC0415
    from service.qa.backends.torch import TorchBackend  # noqa: PLC0415
    from service.qa.model import QAModel  # noqa: PLC0415
    from service.qa.spans import DecodeOptions  # noqa: PLC0415
    from service.qa.tokenization import QATokenizer, uses_token_type_ids  # noqa: PLC0415

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
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout
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
